// wsloop/redis with a real redis-server: the example chat on two runtimes at once, one room.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, eventually, open } from "../matrix/client.ts";
import { type FixtureServer, type Runtime, startScript } from "../matrix/server.ts";
import { type RedisInstance, sharedRedis, startRedis } from "./redis-server.ts";

const frame = (type: string, user: string, text = "") => JSON.stringify({ type, user, text });

function startExample(runtime: Runtime, redisUrl: string): Promise<FixtureServer> {
  return startScript(runtime, `examples/${runtime}/server.ts`, /Chat on http:\/\/\S+:(\d+)\//, { REDIS_URL: redisUrl });
}

/** Ann joins on `first`, Bob on `second`, in a fresh room; resolves once each has seen Bob arrive. */
async function meet(first: FixtureServer, second: FixtureServer): Promise<{ ann: Client; bob: Client }> {
  const room = randomUUID();
  const ann = await open(`${first.ws}/chat/${room}?user=Ann`);
  expect(await ann.received(1)).toEqual([frame("joined", "Ann")]);
  const bob = await open(`${second.ws}/chat/${room}?user=Bob`);
  expect(await bob.received(1)).toEqual([frame("joined", "Bob")]);
  expect(await ann.received(2)).toEqual([frame("joined", "Ann"), frame("joined", "Bob")]);
  return { ann, bob };
}

describe("two instances on one Redis", () => {
  let redis: RedisInstance;
  beforeAll(async () => {
    redis = await sharedRedis();
  });
  afterAll(() => redis?.stop());

  describe.each([
    ["bun", "node"],
    ["deno", "node"],
  ] as [Runtime, Runtime][])("%s and %s", (firstRuntime, secondRuntime) => {
    let first: FixtureServer;
    let second: FixtureServer;
    beforeAll(async () => {
      [first, second] = await Promise.all([startExample(firstRuntime, redis.url), startExample(secondRuntime, redis.url)]);
    });
    afterAll(async () => {
      await Promise.all([first?.kill(), second?.kill()]);
    });

    it("delivers 10,000 messages from a client on one to a client on the other, in order, none lost", async () => {
      const { ann, bob } = await meet(first, second);
      const sent = Array.from({ length: 10_000 }, (_, i) => `n${i}`);
      for (const text of sent) ann.send(text);
      const received = (await bob.received(1 + sent.length, 60_000)).slice(1);
      expect(received).toEqual(sent.map((text) => frame("message", "Ann", text)));
      // And back the other way, with the sender seeing its own message too.
      bob.send("back");
      expect((await ann.received(2 + sent.length + 1, 20_000)).at(-1)).toBe(frame("message", "Bob", "back"));
      ann.socket.close(1000);
      expect((await bob.received(1 + sent.length + 2)).at(-1)).toBe(frame("left", "Ann"));
      bob.socket.close(1000);
    }, 90_000);
  });
});

describe("a Redis restart", () => {
  let redis: RedisInstance;
  let node: FixtureServer;
  let bun: FixtureServer;
  beforeAll(async () => {
    redis = await startRedis();
    [node, bun] = await Promise.all([startExample("node", redis.url), startExample("bun", redis.url)]);
  });
  afterAll(async () => {
    await Promise.all([node?.kill(), bun?.kill()]);
    await redis?.stop();
  });

  it("loses no subscription: both instances deliver each other's messages once Redis is back", async () => {
    const { ann, bob } = await meet(node, bun);
    ann.send("before");
    expect((await bob.received(2)).at(-1)).toBe(frame("message", "Ann", "before"));
    await redis.restart();
    // Publishes made while Redis was away may be lost; once it is back, every new one arrives.
    const arrived = (client: Client, user: string) =>
      client.messages.some((m) => String(m).includes(`"user":"${user}","text":"after`));
    let i = 0;
    await eventually(async () => {
      ann.send(`after ${i}`);
      bob.send(`after ${i++}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return arrived(bob, "Ann") && arrived(ann, "Bob");
    }, 20_000);
    ann.send("settled");
    await eventually(async () => bob.messages.includes(frame("message", "Ann", "settled")));
    ann.socket.close(1000);
    bob.socket.close(1000);
  }, 60_000);
});
