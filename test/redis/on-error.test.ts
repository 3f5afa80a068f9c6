// An app's onError that throws, called by wsloop/redis during an outage: logged, never raised.
// node-redis calls it from its 'error' event, where a throw is an uncaught exception (on Node, the
// end of the process: every socket of the server with it).
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createRedisBroker, createRedisPresence, createRedisStreamBroker, type Payload } from "../../src/redis.ts";
import { eventually } from "../matrix/client.ts";
import { type RedisInstance, startRedis } from "./redis-server.ts";

interface Closable {
  close(): Promise<void>;
}

const makers: [string, (options: { url: string; onError: (error: unknown) => void }) => Promise<Closable>][] = [
  ["createRedisBroker", createRedisBroker],
  ["createRedisStreamBroker", createRedisStreamBroker],
  ["createRedisPresence", createRedisPresence],
];

describe("an onError that throws", () => {
  let redis: RedisInstance;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  for (const [name, make] of makers) {
    it(`is logged, not raised, when ${name} reports an outage`, async () => {
      const logged = vi.spyOn(console, "error").mockImplementation(() => {});
      let calls = 0;
      const made = await make({
        url: redis.url,
        onError: () => {
          calls++;
          throw new Error("the app's onError failed");
        },
      });
      await redis.down();
      await eventually(async () => calls > 0);
      expect(logged.mock.calls.some(([first]) => String(first).startsWith("[wsloop] onError failed"))).toBe(true);
      await redis.restart();
      if (name === "createRedisBroker") {
        // It works again once Redis is back: the throw broke nothing on the way.
        const broker = made as Awaited<ReturnType<typeof createRedisBroker>>;
        const topic = randomUUID();
        const got: Payload[] = [];
        broker.topic(topic).subscribe((payload) => got.push(payload));
        await eventually(async () => {
          try {
            await broker.publish(topic, "after");
          } catch {
            return false;
          }
          return got.includes("after");
        }, 20_000);
      }
      await made.close();
    }, 40_000);
  }
});
