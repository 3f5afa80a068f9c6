// createRedisBroker against a real redis-server, in this process.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Connection, continueConnection, upgradeWebSocket } from "../../src/index.ts";
import { createRedisBroker, type Payload } from "../../src/redis.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";
import { eventually } from "../matrix/client.ts";
import { withSharedRedis } from "./redis-server.ts";

describe("createRedisBroker", () => {
  const shared = withSharedRedis();

  const channelSubscribers = async (channel: string) => Number((await shared.probe.pubSubNumSub(channel))[channel] ?? 0);

  it("delivers text and bytes as sent, to a subscription made just before the publish", async () => {
    const broker = await createRedisBroker({ url: shared.redis.url });
    const topic = randomUUID();
    const got: Payload[] = [];
    broker.topic(topic).subscribe((p) => got.push(p));
    // No wait between subscribe and publish: the broker orders them.
    await broker.publish(topic, "héllo");
    await broker.publish(topic, new Uint8Array([0, 1, 255]));
    await eventually(async () => got.length === 2);
    expect(got[0]).toBe("héllo");
    expect(got[1]).toEqual(new Uint8Array([0, 1, 255]));
    await broker.close();
  });

  it("hands other publishers' messages over unchanged: text on PREFIX t:TOPIC, bytes on PREFIX tb:TOPIC", async () => {
    const broker = await createRedisBroker({ url: shared.redis.url });
    const topic = randomUUID();
    const got: Payload[] = [];
    broker.topic(topic).subscribe((p) => got.push(p));
    await eventually(async () => (await channelSubscribers(`wsloop:tb:${topic}`)) === 1);
    // A plain client, as a worker or redis-cli would publish: no wsloop framing.
    const texts = ["hello", "bye", "b", "t", "tea", "", "héllo ✓"];
    for (const text of texts) await shared.probe.publish(`wsloop:t:${topic}`, text);
    await shared.probe.publish(`wsloop:tb:${topic}`, Buffer.from([0x62, 0x74, 0, 255]));
    await eventually(async () => got.length === texts.length + 1);
    expect(got.slice(0, texts.length)).toEqual(texts);
    expect(got.at(-1)).toEqual(new Uint8Array([0x62, 0x74, 0, 255]));
    await broker.close();
  });

  it("between two instances, keeps text as text and bytes as bytes, whatever their first byte, in publish order", async () => {
    const [one, two] = await Promise.all([
      createRedisBroker({ url: shared.redis.url }),
      createRedisBroker({ url: shared.redis.url }),
    ]);
    const topic = randomUUID();
    const got: Payload[] = [];
    two.topic(topic).subscribe((p) => got.push(p));
    await eventually(async () => (await channelSubscribers(`wsloop:t:${topic}`)) === 1);
    const sent: Payload[] = [
      "b",
      new Uint8Array([0x74, 0x65]),
      "tb",
      new Uint8Array([]),
      "",
      new Uint8Array([0xff, 0xfe]),
      "end",
    ];
    for (const payload of sent) void one.publish(topic, payload);
    await eventually(async () => got.length === sent.length);
    expect(got).toEqual(sent);
    // What a plain subscriber sees: the payload itself.
    const seen: string[] = [];
    const plain = shared.probe.duplicate();
    await plain.connect();
    await plain.subscribe(`wsloop:t:${topic}`, (message) => seen.push(message));
    await one.publish(topic, "plain");
    await eventually(async () => seen.length === 1);
    expect(seen).toEqual(["plain"]);
    await Promise.all([one.close(), two.close(), plain.close()]);
  });

  it("reaches the subscribers of another broker instance, and decodes for a typed topic", async () => {
    const [one, two] = await Promise.all([
      createRedisBroker({ url: shared.redis.url }),
      createRedisBroker({ url: shared.redis.url }),
    ]);
    const topic = randomUUID();
    const got: number[] = [];
    two.topic(topic, (p) => Number(p)).subscribe((n) => got.push(n));
    await eventually(async () => (await channelSubscribers(`wsloop:t:${topic}`)) === 1);
    for (let i = 0; i < 100; i++) void one.publish(topic, String(i));
    await eventually(async () => got.length === 100);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await Promise.all([one.close(), two.close()]);
  });

  it("hands publishFrame's frames to the sockets that joined the topic on any instance, and drops the channel after the last leaves", async () => {
    const [one, two] = await Promise.all([
      createRedisBroker({ url: shared.redis.url }),
      createRedisBroker({ url: shared.redis.url }),
    ]);
    const topic = randomUUID();
    const socket = await connect(
      upgradeWebSocket(upgradeRequest("http://localhost/", { headers: { host: "localhost" } }), {
        dependencies: two,
        onInit: (connection: Connection, broker: typeof two): [null] => {
          broker.join(connection, topic);
          return [null];
        },
        onMessage: (s: null) => continueConnection(s),
        onClose: () => {},
      }),
    );
    await eventually(async () => (await channelSubscribers(`wsloop:f:${topic}`)) === 1);
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
    await eventually(async () => (await channelSubscribers(`wsloop:f:${topic}`)) === 0);
    await Promise.all([one.close(), two.close()]);
  });

  it("holds one Redis subscription per topic while local subscribers remain, and drops it after the last", async () => {
    const broker = await createRedisBroker({ url: shared.redis.url, prefix: "test:" });
    const topic = randomUUID();
    const stopA = broker.topic(topic).subscribe(() => {});
    const stopB = broker.topic(topic).subscribe(() => {});
    expect(broker.subscriberCount(topic)).toBe(2);
    await eventually(async () => (await channelSubscribers(`test:t:${topic}`)) === 1);
    stopA();
    expect(await channelSubscribers(`test:t:${topic}`)).toBe(1);
    stopB();
    expect(broker.subscriberCount(topic)).toBe(0);
    await eventually(async () => (await channelSubscribers(`test:t:${topic}`)) === 0);
    await broker.close();
  });

  it("releases its connections on close, and rejects later publishes", async () => {
    const countClients = async () => (await shared.probe.clientList()).filter((client) => client.name === "wsloop").length;
    const before = await countClients();
    const broker = await createRedisBroker({ url: shared.redis.url });
    expect(await countClients()).toBe(before + 2);
    await broker.close();
    await eventually(async () => (await countClients()) === before);
    await expect(broker.publish("any", "x")).rejects.toThrow(/the broker is closed/);
  });
});
