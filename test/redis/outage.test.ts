// wsloop/redis when Redis is not there: at start, during an outage, and after close.
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisBroker, type Payload } from "../../src/redis.ts";
import { eventually } from "../matrix/client.ts";
import { type RedisInstance, startRedis, withSharedRedis } from "./redis-server.ts";

const quiet = { onError: () => {} };

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** How long `promise` took to reject, and with what. */
async function rejection(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const start = performance.now();
  try {
    await promise;
  } catch (error) {
    return { error: error as Error, ms: performance.now() - start };
  }
  throw new Error("expected a rejection, it resolved");
}

describe("createRedisBroker against an unreachable Redis", () => {
  it("rejects after connectTimeout with an error naming the URL, rather than never settling", async () => {
    const url = `redis://127.0.0.1:${await deadPort()}`;
    const { error, ms } = await rejection(createRedisBroker({ url, connectTimeout: 500, ...quiet }));
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/wsloop\/redis: could not connect to redis:\/\/127\.0\.0\.1:\d+ within 500 ms/);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(ms).toBeLessThan(3_000);
  });

  it("rejects a connectTimeout that is not a positive number", async () => {
    await expect(createRedisBroker({ connectTimeout: 0, ...quiet })).rejects.toThrow(RangeError);
  });
});

describe("a Redis outage", () => {
  let redis: RedisInstance;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it("makes publish reject at once with a message naming the cause, while Redis is down, and work again after", async () => {
    const broker = await createRedisBroker({ url: redis.url, ...quiet });
    const topic = randomUUID();
    const got: Payload[] = [];
    broker.topic(topic).subscribe((p) => got.push(p));
    await broker.publish(topic, "before");
    await eventually(async () => got.length === 1);

    await redis.stop();
    // Right after the kill, and once the clients noticed: each publish rejects, none resolves.
    for (const delay of [0, 200, 1_000]) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      const { error, ms } = await rejection(broker.publish(topic, `during ${delay}`));
      expect(error.message, `after ${delay} ms`).toMatch(/^wsloop\/redis: could not publish to topic ".+": Redis /);
      expect(ms, `after ${delay} ms`).toBeLessThan(2_000);
    }

    await redis.restart();
    // Once both connections are back (the subscriber resubscribed), publishes arrive again.
    await eventually(async () => {
      try {
        await broker.publish(topic, "after");
        return got.includes("after");
      } catch {
        return false;
      }
    }, 20_000);
    expect(got.filter((p) => String(p).startsWith("during"))).toEqual([]);
    await broker.close();
  }, 40_000);
});

describe("a closed broker", () => {
  const shared = withSharedRedis();

  it("rejects a publish Redis does not answer after publishTimeout, with a message saying so", async () => {
    const broker = await createRedisBroker({ url: shared.redis.url, publishTimeout: 300, ...quiet });
    // PUBLISH waits while clients are paused for writes: Redis is up but does not answer it.
    await shared.probe.sendCommand(["CLIENT", "PAUSE", "2000", "WRITE"]);
    try {
      const { error, ms } = await rejection(broker.publish(randomUUID(), "slow"));
      expect(error.message).toMatch(/^wsloop\/redis: could not publish to topic ".+": Redis did not answer within 300 ms$/);
      expect(ms).toBeLessThan(1_500);
    } finally {
      await shared.probe.sendCommand(["CLIENT", "UNPAUSE"]);
      await broker.close();
    }
  });

  it("takes a topic subscription without throwing, delivers nothing and sends nothing to Redis", async () => {
    const errors: unknown[] = [];
    const broker = await createRedisBroker({ url: shared.redis.url, onError: (error) => errors.push(error) });
    const topic = randomUUID();
    const stopEarly = broker.topic(topic).subscribe(() => {});
    await broker.close();
    const got: Payload[] = [];
    let stop!: () => void;
    expect(() => {
      stop = broker.topic(topic).subscribe((p) => got.push(p));
    }).not.toThrow();
    await shared.probe.publish(`wsloop:t:${topic}`, "after close");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(() => stop()).not.toThrow();
    expect(() => stopEarly()).not.toThrow();
    expect(got).toEqual([]);
    expect(Number((await shared.probe.pubSubNumSub(`wsloop:t:${topic}`))[`wsloop:t:${topic}`] ?? 0)).toBe(0);
    // A closed client was not asked to subscribe: no "client is closed" errors.
    expect(errors).toEqual([]);
  });

  it("holds nothing for topics opened and closed after close: 20,000 of them grow the heap by under 2 MB", async () => {
    const broker = await createRedisBroker({ url: shared.redis.url, ...quiet });
    await broker.close();
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const cycle = () => {
      for (let i = 0; i < 20_000; i++) broker.topic(`late:${i}`).subscribe(() => {})();
    };
    cycle(); // warm up
    gc();
    const before = process.memoryUsage().heapUsed;
    cycle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    // Before the fix each one queued a SUBSCRIBE and an UNSUBSCRIBE in the closed client, forever.
    expect(growth).toBeLessThan(2 * 1024 * 1024);
  });
});
