import { describe, expect, it } from "vitest";
import {
  type Broker,
  type Connection,
  continueConnection,
  continueConnectionWithSelector,
  createMemoryBroker,
  type Message,
  type Payload,
  type Selector,
  sendText,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

describe("createMemoryBroker", () => {
  it("delivers each payload to every subscriber of its topic, in publish order, text and bytes as sent", async () => {
    const broker = createMemoryBroker();
    const got: Payload[] = [];
    const other: Payload[] = [];
    const stop = broker.topic("room").subscribe((p) => got.push(p));
    broker.topic("elsewhere").subscribe((p) => other.push(p));
    const bytes = new Uint8Array([1, 2]);
    await broker.publish("room", "a");
    await broker.publish("room", bytes);
    await broker.publish("room", "b");
    expect(got).toEqual(["a", bytes, "b"]);
    expect(got[1]).toBe(bytes);
    expect(other).toEqual([]);
    stop();
    await broker.publish("room", "c");
    expect(got).toHaveLength(3);
    expect(broker.subscriberCount("room")).toBe(0);
  });

  it("decodes payloads for a typed topic", async () => {
    const broker = createMemoryBroker();
    const got: { n: number }[] = [];
    broker.topic("json", (p) => JSON.parse(p as string) as { n: number }).subscribe((v) => got.push(v));
    await broker.publish("json", '{"n":1}');
    expect(got).toEqual([{ n: 1 }]);
  });

  it("rejects publishes after close", async () => {
    const broker = createMemoryBroker();
    await broker.close();
    await expect(broker.publish("t", "x")).rejects.toThrow(/closed broker/);
  });
});

interface Deps {
  broker: Broker;
}

function onInit(_c: Connection, deps: Deps): [number, Selector<Payload>] {
  return [0, deps.broker.topic("news")];
}

function onMessage(state: number, message: Message<Payload>, connection: Connection, deps: Deps) {
  if (message.type === "custom") sendText(connection, `news:${String(message.value)}`);
  if (message.type === "text" && message.text === "sports")
    return continueConnectionWithSelector(state, deps.broker.topic("sports"));
  if (message.type === "text" && message.text === "bad")
    return continueConnectionWithSelector(
      state,
      deps.broker.topic("bad", () => {
        throw new Error("undecodable");
      }),
    );
  return continueConnection(state);
}

describe("a topic as a connection's selector", () => {
  const open = (broker: Broker) =>
    connect<number, Payload>(
      upgradeWebSocket(upgradeRequest(), { dependencies: { broker }, onInit, onMessage, onClose: () => {}, onError: () => {} }),
    );

  it("feeds published payloads into the loop, follows replacement, and is dropped when the socket closes", async () => {
    const broker = createMemoryBroker();
    const a = await open(broker);
    const b = await open(broker);
    await broker.publish("news", "one");
    expect(a.texts()).toEqual(["news:one"]);
    expect(b.texts()).toEqual(["news:one"]);
    b.sendText("sports");
    await b.settled();
    await broker.publish("news", "two");
    await broker.publish("sports", "goal");
    expect(a.texts()).toEqual(["news:one", "news:two"]);
    expect(b.texts()).toEqual(["news:one", "news:goal"]);
    expect(broker.subscriberCount("news")).toBe(1);
    a.disconnect();
    b.close();
    await Promise.all([a.settled(), b.settled()]);
    expect(broker.subscriberCount("news")).toBe(0);
    expect(broker.subscriberCount("sports")).toBe(0);
  });

  it("closes only the connection whose decode throws, with 1011", async () => {
    const broker = createMemoryBroker();
    const a = await open(broker);
    const b = await open(broker);
    a.sendText("bad");
    await a.settled();
    await broker.publish("bad", "x");
    await a.settled();
    expect(a.closedByServer?.code).toBe(1011);
    await broker.publish("news", "still");
    expect(b.texts()).toEqual(["news:still"]);
  });
});

describe("join / publishFrame: the broadcast fast path", () => {
  const quiet = { onClose: () => {}, onError: () => {} };

  it("sends published frames straight to joined sockets, with no turn of their loop, until they leave or close", async () => {
    const broker = createMemoryBroker();
    const turns: string[] = [];
    const handler = (request: Request) =>
      upgradeWebSocket(request, {
        ...quiet,
        dependencies: broker,
        onInit: (connection: Connection, deps: typeof broker): [null] => {
          deps.join(connection, "news");
          return [null];
        },
        onMessage: (s: null, m: Message<never>) => {
          turns.push(m.type);
          return continueConnection(s);
        },
      });
    const a = await connect(handler);
    const b = await connect(handler);
    const bytes = new Uint8Array([7]);
    await broker.publishFrame("news", "hello");
    await broker.publishFrame("news", bytes);
    expect(a.frames).toEqual([
      { type: "text", text: "hello" },
      { type: "binary", data: bytes },
    ]);
    expect(b.frames).toEqual(a.frames);
    expect(turns).toEqual([]);
    expect(broker.memberCount("news")).toBe(2);
    broker.leave(a.connection, "news");
    await broker.publishFrame("news", "only b");
    expect(a.frames).toHaveLength(2);
    expect(b.texts()).toEqual(["hello", "only b"]);
    b.disconnect();
    await b.settled();
    expect(broker.memberCount("news")).toBe(0);
  });

  it("holds back frames from a socket in backpressure and closes it with 1008 past slowConsumerLimit", async () => {
    const broker = createMemoryBroker();
    const slow = await connect(
      upgradeWebSocket(upgradeRequest(), {
        ...quiet,
        dependencies: broker,
        maxBufferedAmount: 100,
        slowConsumerLimit: 150,
        onInit: (connection: Connection, deps: typeof broker): [null] => {
          deps.join(connection, "t");
          return [null];
        },
        onMessage: (s: null) => continueConnection(s),
      }),
    );
    slow.bufferedAmount = 120;
    await broker.publishFrame("t", "x".repeat(20));
    expect(slow.frames).toEqual([]);
    expect(slow.closedByServer).toBeUndefined();
    await broker.publishFrame("t", "x".repeat(20));
    expect(slow.closedByServer).toEqual({ code: 1008, reason: "Slow consumer" });
    await slow.settled();
    expect(broker.memberCount("t")).toBe(0);
  });

  it("on a runtime with native topics, subscribes each socket natively and publishes once per server", async () => {
    const { Session } = await import("../../src/core/session.ts");
    const { takeUpgrade } = await import("../../src/core/upgrade.ts");
    const broker = createMemoryBroker();
    const published: [string, Payload][] = [];
    const hub = { publish: (topic: string, data: Payload) => void published.push([topic, data]) };
    const subscribed: string[] = [];
    const sessions = [1, 2, 3].map(() => {
      const request = upgradeRequest();
      const pending = takeUpgrade(
        request,
        upgradeWebSocket(request, {
          ...quiet,
          dependencies: null,
          onInit: (): [null] => [null],
          onMessage: (s: null) => continueConnection(s),
        }),
      );
      if (!pending) throw new Error("no upgrade");
      const transport = {
        send: () => {
          throw new Error("native members are not written one by one");
        },
        close() {},
        terminate() {},
        bufferedAmount: 0,
        native: {
          subscribe: (t: string) => void subscribed.push(`+${t}`),
          unsubscribe: (t: string) => void subscribed.push(`-${t}`),
          hub,
        },
      };
      const session = new Session(pending, transport);
      session.start();
      return session;
    });
    for (const session of sessions) broker.join(session.connection, "room");
    await broker.publishFrame("room", "hi");
    expect(published).toHaveLength(1);
    const [nativeTopic, data] = published[0] as [string, Payload];
    expect(data).toBe("hi");
    expect(nativeTopic).toMatch(/room$/);
    expect(subscribed).toEqual([`+${nativeTopic}`, `+${nativeTopic}`, `+${nativeTopic}`]);
    for (const session of sessions) session.closed(1000, "");
    await Promise.all(sessions.map((session) => session.finished));
    expect(subscribed.filter((s) => s.startsWith("-"))).toHaveLength(3);
    expect(broker.memberCount("room")).toBe(0);
    await broker.publishFrame("room", "nobody");
    expect(published).toHaveLength(1);
  });
});
