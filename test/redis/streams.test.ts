// createRedisStreamBroker against a real redis-server, in this process: ids, one order across
// instances, replay from an id, retention and gap notices, the keys it writes.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type Connection,
  continueConnection,
  continueConnectionWithSelector,
  type Message,
  type Selector,
  sendText,
  upgradeWebSocket,
} from "../../src/index.ts";
import { createRedisStreamBroker, type Payload, type RedisStreamBroker, type TopicEvent } from "../../src/redis.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";
import { eventually } from "../matrix/client.ts";
import { withSharedRedis } from "./redis-server.ts";

const quiet = { onError: () => {} };

function collect(broker: RedisStreamBroker, topic: string, from?: string) {
  const events: TopicEvent[] = [];
  const stop = broker.topic(topic, from === undefined ? {} : { from }).subscribe((event) => events.push(event));
  const messages = () => events.flatMap((event) => (event.type === "message" ? [event] : []));
  return { events, stop, messages, payloads: () => messages().map((event) => event.payload) };
}

describe("createRedisStreamBroker", () => {
  const shared = withSharedRedis();

  it("gives ids MS-SEQ counting 1, 2, 3 per topic; text stays text and bytes bytes; a subscription made just before the publish sees it", async () => {
    const broker = await createRedisStreamBroker({ url: shared.redis.url, ...quiet });
    const topic = randomUUID();
    const got = collect(broker, topic);
    const plain: Payload[] = [];
    broker.topic(topic).subscribe((payload) => plain.push(payload));
    // No wait between subscribe and publish: the broker orders them.
    await broker.publish(topic, "héllo");
    await broker.publish(topic, new Uint8Array([0, 1, 255]));
    await broker.publish(topic, "");
    await eventually(async () => got.events.length === 3 && plain.length === 3);
    expect(got.payloads()).toEqual(["héllo", new Uint8Array([0, 1, 255]), ""]);
    expect(plain).toEqual(got.payloads());
    expect(got.messages().map((event) => Number(event.id.split("-")[1]))).toEqual([1, 2, 3]);
    // The stream is an ordinary Redis stream, readable by anything.
    const entries = (await shared.probe.xRange(`wsloop:st:${topic}`, "-", "+")) ?? [];
    expect(entries.map((entry) => entry.id)).toEqual(got.messages().map((event) => event.id));
    expect(entries[0]?.message).toEqual({ k: "t", p: "héllo" });
    await broker.close();
  });

  it("hands every subscriber on every instance one order, with three instances publishing at once", async () => {
    const brokers = await Promise.all([1, 2, 3].map(() => createRedisStreamBroker({ url: shared.redis.url, ...quiet })));
    const topic = randomUUID();
    const subscribers = brokers.map((broker) => collect(broker, topic));
    const plain = brokers.map((broker) => {
      const got: Payload[] = [];
      broker.topic(topic).subscribe((payload) => got.push(payload));
      return got;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sent: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) sent.push((brokers[i % 3] as RedisStreamBroker).publish(topic, `${i % 3}:${i}`));
    await Promise.all(sent);
    await eventually(async () => subscribers.every((subscriber) => subscriber.events.length === 300));
    const order = subscribers[0]?.messages().map((event) => event.id);
    for (const subscriber of subscribers) expect(subscriber.messages().map((event) => event.id)).toEqual(order);
    for (const got of plain) expect(got).toEqual(subscribers[0]?.payloads());
    // Each publisher's own messages keep its publish order.
    for (const p of ["0", "1", "2"]) {
      const own = ((subscribers[0]?.payloads() ?? []) as string[]).filter((text) => text.startsWith(`${p}:`));
      expect(own.map((text) => Number(text.split(":")[1]))).toEqual(
        [...own.map((text) => Number(text.split(":")[1]))].sort((a, b) => a - b),
      );
    }
    expect(new Set(order).size).toBe(300);
    await Promise.all(brokers.map((broker) => broker.close()));
  });

  it("replays exactly what was published after `from` (1,000 messages, once, in order), then live ones", async () => {
    const [publisher, subscriber] = await Promise.all([
      createRedisStreamBroker({ url: shared.redis.url, ...quiet }),
      createRedisStreamBroker({ url: shared.redis.url, readBatch: 128, ...quiet }),
    ]);
    const topic = randomUUID();
    const first = collect(subscriber, topic);
    await publisher.publish(topic, "before");
    await eventually(async () => first.events.length === 1);
    const lastId = first.messages()[0]?.id as string;
    first.stop(); // the client went away
    const missed = Array.from({ length: 1000 }, (_, i) => `missed ${i}`);
    await Promise.all(missed.map((text) => publisher.publish(topic, text)));
    const back = collect(subscriber, topic, lastId);
    // Live messages published while it still reads the replay come after it, in order.
    const live = Array.from({ length: 50 }, (_, i) => `live ${i}`);
    for (const text of live) await publisher.publish(topic, text);
    await eventually(async () => back.events.length >= missed.length + live.length);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(back.events.some((event) => event.type === "gap")).toBe(false);
    expect(back.payloads()).toEqual([...missed, ...live]);
    const seqs = back.messages().map((event) => Number(event.id.split("-")[1]));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 2));
    await Promise.all([publisher.close(), subscriber.close()]);
  });

  it("sends a gap notice for an id older than the retention, then what it keeps; and one for a malformed id", async () => {
    const broker = await createRedisStreamBroker({ url: shared.redis.url, retention: { maxLength: 10 }, ...quiet });
    const topic = randomUUID();
    const watcher = collect(broker, topic);
    for (let i = 0; i < 500; i++) await broker.publish(topic, `m${i}`);
    await eventually(async () => watcher.events.length === 500);
    const oldest = watcher.messages()[0]?.id as string;
    const late = collect(broker, topic, oldest);
    const garbage = collect(broker, topic, "not-an-id");
    await eventually(async () => late.events.some((event) => event.type === "message"));
    await broker.publish(topic, "after");
    await eventually(async () => late.payloads().includes("after") && garbage.payloads().includes("after"));
    expect(late.events[0]).toEqual({ type: "gap", after: oldest });
    // What follows the gap is contiguous up to the live message (Redis kept at least 10).
    const kept = late.payloads() as string[];
    expect(kept.length).toBeGreaterThanOrEqual(11);
    expect(kept.at(-1)).toBe("after");
    expect(kept).toEqual(watcher.payloads().slice(-kept.length));
    expect(garbage.events).toEqual([{ type: "gap", after: "not-an-id" }, expect.objectContaining({ payload: "after" })]);
    const length = await shared.probe.xLen(`wsloop:st:${topic}`);
    expect(length).toBeLessThan(500);
    await broker.close();
  });

  it("feeds a replaying topic into a connection's loop: the replay then live messages, each once, the selector returned every turn", async () => {
    const broker = await createRedisStreamBroker({ url: shared.redis.url, ...quiet });
    const topic = randomUUID();
    const watcher = collect(broker, topic);
    for (let i = 1; i <= 3; i++) await broker.publish(topic, `m${i}`);
    await eventually(async () => watcher.events.length === 3);
    const from = watcher.messages()[0]?.id as string;
    const socket = await connect(
      upgradeWebSocket(upgradeRequest("http://localhost/"), {
        dependencies: broker,
        ...quiet,
        onInit: (_c: Connection, deps: RedisStreamBroker): [null, Selector<TopicEvent>] => [null, deps.topic(topic, { from })],
        onMessage: (state: null, message: Message<TopicEvent>, connection: Connection, deps: RedisStreamBroker) => {
          if (message.type === "custom" && message.value.type === "message") sendText(connection, String(message.value.payload));
          return continueConnectionWithSelector(state, deps.topic(topic, { from }));
        },
        onClose: () => {},
      }),
    );
    await eventually(async () => socket.texts().length === 2);
    await broker.publish(topic, "m4");
    await eventually(async () => socket.texts().length === 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket.texts()).toEqual(["m2", "m3", "m4"]);
    expect(broker.subscriberCount(topic)).toBe(2);
    socket.close();
    await socket.settled();
    expect(broker.subscriberCount(topic)).toBe(1);
    await broker.close();
  });

  it("hands publishFrame's frames to the sockets that joined the topic on another instance", async () => {
    const [one, two] = await Promise.all([
      createRedisStreamBroker({ url: shared.redis.url, ...quiet }),
      createRedisStreamBroker({ url: shared.redis.url, ...quiet }),
    ]);
    const topic = randomUUID();
    const socket = await connect(
      upgradeWebSocket(upgradeRequest("http://localhost/"), {
        dependencies: two,
        onInit: (connection: Connection, broker: RedisStreamBroker): [null] => {
          broker.join(connection, topic);
          return [null];
        },
        onMessage: (s: null) => continueConnection(s),
        onClose: () => {},
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await one.publishFrame(topic, "frame one");
    await one.publishFrame(topic, new Uint8Array([1]));
    await eventually(async () => socket.frames.length === 2);
    expect(socket.frames).toEqual([
      { type: "text", text: "frame one" },
      { type: "binary", data: new Uint8Array([1]) },
    ]);
    socket.close();
    await socket.settled();
    expect(two.memberCount(topic)).toBe(0);
    await Promise.all([one.close(), two.close()]);
  });

  it("releases both connections on close, and rejects later publishes with reason closed", async () => {
    const countClients = async () => (await shared.probe.clientList()).filter((client) => client.name === "wsloop").length;
    const before = await countClients();
    const broker = await createRedisStreamBroker({ url: shared.redis.url, ...quiet });
    collect(broker, randomUUID());
    expect(await countClients()).toBe(before + 2);
    await broker.close();
    await eventually(async () => (await countClients()) === before);
    await expect(broker.publish("any", "x")).rejects.toMatchObject({ name: "PublishError", reason: "closed" });
  });

  it("refuses a retention that keeps nothing: live readers read the stream", async () => {
    await expect(createRedisStreamBroker({ url: shared.redis.url, retention: {}, ...quiet })).rejects.toThrow(RangeError);
  });
});
