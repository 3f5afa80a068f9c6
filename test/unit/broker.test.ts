import { describe, expect, it } from "vitest";
import {
  type Broker,
  type Connection,
  type Message,
  type Payload,
  type Selector,
  continueConnection,
  continueConnectionWithSelector,
  createMemoryBroker,
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
  if (message.type === "text" && message.text === "sports") return continueConnectionWithSelector(state, deps.broker.topic("sports"));
  if (message.type === "text" && message.text === "bad") return continueConnectionWithSelector(state, deps.broker.topic("bad", () => {
    throw new Error("undecodable");
  }));
  return continueConnection(state);
}

describe("a topic as a connection's selector", () => {
  const open = (broker: Broker) =>
    connect<number, Payload>(upgradeWebSocket(upgradeRequest(), { dependencies: { broker }, onInit, onMessage, onClose: () => {}, onError: () => {} }));

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
