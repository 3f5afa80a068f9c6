// createRedisStreamBroker when Redis goes away: publishes wait in a bounded buffer and go out in
// order when it is back, or reject with a typed PublishError; a kill -9 of a Redis with AOF during
// a 20,000-message burst loses none of the accepted ones.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStreamBroker, type PublishError, type RedisStreamBroker, type TopicEvent } from "../../src/redis.ts";
import { eventually } from "../matrix/client.ts";
import { type RedisInstance, startRedis } from "./redis-server.ts";

const quiet = { onError: () => {} };

function collect(broker: RedisStreamBroker, topic: string) {
  const events: TopicEvent[] = [];
  broker.topic(topic, {}).subscribe((event) => events.push(event));
  const payloads = () => events.flatMap((event) => (event.type === "message" ? [String(event.payload)] : []));
  return { events, payloads };
}

const settle = (promise: Promise<void>) =>
  promise.then(
    () => undefined,
    (error: PublishError) => error,
  );

describe("a Redis outage (no persistence)", () => {
  let redis: RedisInstance;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it("buffers publishes while Redis is down and sends them in order once it is back; a restart that lost the stream shows as a gap", async () => {
    const [publisher, subscriber] = await Promise.all([
      createRedisStreamBroker({ url: redis.url, publishTimeout: 20_000, ...quiet }),
      createRedisStreamBroker({ url: redis.url, ...quiet }),
    ]);
    const topic = randomUUID();
    const got = collect(subscriber, topic);
    await publisher.publish(topic, "before");
    await eventually(async () => got.payloads().length === 1);
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const during = ["during 1", "during 2", "during 3"].map((text) => publisher.publish(topic, text));
    await redis.restart();
    await Promise.all(during);
    await publisher.publish(topic, "after");
    await eventually(async () => got.payloads().includes("after"), 20_000);
    expect(got.payloads()).toEqual(["before", "during 1", "during 2", "during 3", "after"]);
    // Redis came back empty: the numbers start again, and the subscriber is told.
    expect(got.events[1]).toMatchObject({ type: "gap" });
    await Promise.all([publisher.close(), subscriber.close()]);
  }, 40_000);

  it("rejects with reason buffer_full past maxBufferedBytes and timeout past publishTimeout, at once or on time", async () => {
    const broker = await createRedisStreamBroker({ url: redis.url, maxBufferedBytes: 1000, publishTimeout: 300, ...quiet });
    await redis.stop();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const start = performance.now();
      const kept = settle(broker.publish("t", "x".repeat(500)));
      const refused = await settle(broker.publish("t", "y".repeat(500)));
      expect(refused).toMatchObject({ name: "PublishError", reason: "buffer_full", topic: "t" });
      expect(performance.now() - start).toBeLessThan(100);
      const expired = await kept;
      expect(expired).toMatchObject({ reason: "timeout" });
      expect(expired?.message).toMatch(/^wsloop: could not publish to topic "t": not acknowledged within 300 ms/);
      expect(performance.now() - start).toBeLessThan(2_000);
    } finally {
      await redis.restart();
      await broker.close();
    }
  }, 20_000);
});

describe("a kill -9 of Redis with AOF during a 20,000-message burst", () => {
  let redis: RedisInstance;
  beforeAll(async () => {
    redis = await startRedis({ persistent: true });
  });
  afterAll(() => redis?.stop());

  it("ends with every accepted message at every subscriber, in publish order, once; the rejected ones were reported", async () => {
    const [publisher, one, two] = await Promise.all([
      createRedisStreamBroker({ url: redis.url, publishTimeout: 15_000, retention: { maxLength: 100_000 }, ...quiet }),
      createRedisStreamBroker({ url: redis.url, ...quiet }),
      createRedisStreamBroker({ url: redis.url, ...quiet }),
    ]);
    const topic = randomUUID();
    const subscribers = [collect(one, topic), collect(two, topic)];
    await new Promise((resolve) => setTimeout(resolve, 100));
    const total = 20_000;
    const outcomes: (PublishError | undefined)[] = new Array(total);
    const settled: Promise<void>[] = [];
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < total; i += 250) {
      if (i === 5_000) restarted = redis.restart(); // kill -9, then start again from the AOF
      const chunk = Array.from({ length: 250 }, (_, j) =>
        settle(publisher.publish(topic, `m${i + j}`)).then((outcome) => {
          outcomes[i + j] = outcome;
        }),
      );
      settled.push(...chunk);
      // A few chunks in flight at a time: the kill lands among sent, unanswered and buffered publishes.
      if ((i / 250) % 4 === 3) await Promise.all(chunk);
    }
    await restarted;
    await Promise.all(settled);
    const accepted = outcomes.flatMap((outcome, i) => (outcome === undefined ? [`m${i}`] : []));
    const acceptedSet = new Set(accepted);
    const rejected = outcomes.filter((outcome): outcome is PublishError => outcome !== undefined);
    expect(accepted.length).toBeGreaterThan(0);
    expect(rejected.length).toBeGreaterThan(0);
    for (const error of rejected) expect(["unacknowledged", "buffer_full", "timeout"]).toContain(error.reason);
    await publisher.publish(topic, "end");
    for (const subscriber of subscribers) {
      await eventually(async () => subscriber.payloads().includes("end"), 30_000);
      const received = subscriber.payloads().slice(0, -1);
      // In publish order, each once; every accepted one is there. A rejected one may be there too:
      // "unacknowledged" means Redis may have stored it before the kill.
      const numbers = received.map((text) => Number(text.slice(1)));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(new Set(numbers).size).toBe(numbers.length);
      const have = new Set(received);
      expect(accepted.filter((text) => !have.has(text))).toEqual([]);
      for (const text of received)
        if (!acceptedSet.has(text)) expect(outcomes[Number(text.slice(1))]?.reason).toBe("unacknowledged");
      // Redis kept what it acknowledged: no gap.
      expect(subscriber.events.some((event) => event.type === "gap")).toBe(false);
    }
    await Promise.all([publisher.close(), one.close(), two.close()]);
  }, 90_000);

  it("lets a replay asked while Redis is down wait for it, then read what it kept", async () => {
    const broker = await createRedisStreamBroker({ url: redis.url, ...quiet });
    const topic = randomUUID();
    const first = collect(broker, topic);
    for (const text of ["a", "b", "c"]) await broker.publish(topic, text);
    await eventually(async () => first.payloads().length === 3);
    const from = (first.events[0] as { id: string }).id;
    await redis.down();
    const late: TopicEvent[] = [];
    broker.topic(topic, { from }).subscribe((event) => late.push(event));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(late).toEqual([]);
    await redis.restart();
    await eventually(async () => late.length === 2, 20_000);
    expect(late.map((event) => (event.type === "message" ? event.payload : event.type))).toEqual(["b", "c"]);
    await broker.close();
  }, 40_000);
});
