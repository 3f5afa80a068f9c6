// Replayable topics on the memory broker and the test broker (wsloop/testing): ids, replay then
// live, retention and gap notices, a partition and a restart of the store.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type Connection,
  continueConnectionWithSelector,
  createMemoryBroker,
  type Message,
  PublishError,
  type ReplayBroker,
  type Selector,
  sendText,
  type TopicEvent,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, createTestBroker, upgradeRequest } from "../../src/testing.ts";

/** Subscribes and collects what the selector delivers, as short strings: `id payload` or `gap after`. */
function collect(selector: Selector<TopicEvent>) {
  const got: TopicEvent[] = [];
  const stop = selector.subscribe((event) => got.push(event));
  const seen = () => got.map((event) => (event.type === "gap" ? `gap ${event.after}` : `${String(event.payload)}`));
  const ids = () => got.flatMap((event) => (event.type === "message" ? [event.id] : []));
  return { got, stop, seen, ids };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const seqOf = (id: string) => Number(id.split("-")[1]);

afterEach(() => {
  vi.useRealTimers();
});

describe("ids and replay on the memory broker", () => {
  it("gives each message an id MS-SEQ, SEQ counting 1, 2, 3 per topic, the same for every subscriber", async () => {
    const broker = createMemoryBroker();
    const a = collect(broker.topic("room", {}));
    const b = collect(broker.topic("room", {}));
    for (const text of ["one", "two", "three"]) await broker.publish("room", text);
    await broker.publish("other", "elsewhere");
    expect(a.seen()).toEqual(["one", "two", "three"]);
    expect(a.ids()).toEqual(b.ids());
    expect(a.ids().map(seqOf)).toEqual([1, 2, 3]);
    expect(a.ids().every((id) => /^\d+-\d+$/.test(id))).toBe(true);
  });

  it("delivers what followed `from`, then live messages, once each and in one order", async () => {
    const broker = createMemoryBroker({ retention: { maxLength: 100 } });
    const first = collect(broker.topic("room", {}));
    for (let i = 1; i <= 5; i++) await broker.publish("room", `m${i}`);
    const lastSeen = first.ids()[1] as string; // m2
    const late = collect(broker.topic("room", { from: lastSeen }));
    expect(late.seen()).toEqual(["m3", "m4", "m5"]);
    await broker.publish("room", "m6");
    expect(late.seen()).toEqual(["m3", "m4", "m5", "m6"]);
    expect(late.ids()).toEqual(first.ids().slice(2));
  });

  it("replays everything retained from 0-0, and nothing but live messages from the last id", async () => {
    const broker = createMemoryBroker({ retention: { maxLength: 10 } });
    for (let i = 1; i <= 3; i++) await broker.publish("room", `m${i}`);
    const all = collect(broker.topic("room", { from: "0-0" }));
    expect(all.seen()).toEqual(["m1", "m2", "m3"]);
    const tail = collect(broker.topic("room", { from: all.ids()[2] as string }));
    await broker.publish("room", "m4");
    expect(tail.seen()).toEqual(["m4"]);
  });

  it("keeps maxLength messages: a replay from an older id gets a gap notice, then what is retained", async () => {
    const broker = createMemoryBroker({ retention: { maxLength: 3 } });
    const live = collect(broker.topic("room", {}));
    for (let i = 1; i <= 6; i++) await broker.publish("room", `m${i}`);
    expect(broker.retained("room")).toBe(3);
    const from = live.ids()[0] as string; // m1: m2 and m3 are gone
    const late = collect(broker.topic("room", { from }));
    expect(late.seen()).toEqual([`gap ${from}`, "m4", "m5", "m6"]);
    // From the last trimmed one, nothing is missing: no gap.
    const exact = collect(broker.topic("room", { from: live.ids()[2] as string }));
    expect(exact.seen()).toEqual(["m4", "m5", "m6"]);
  });

  it("keeps messages for maxAge milliseconds: older ones are gone from replays", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_000_000);
    const broker = createMemoryBroker({ retention: { maxAge: 1000 } });
    const live = collect(broker.topic("room", {}));
    await broker.publish("room", "old");
    vi.setSystemTime(1_000_600);
    await broker.publish("room", "newer");
    vi.setSystemTime(1_001_200); // "old" is 1,200 ms old, "newer" 600
    const late = collect(broker.topic("room", { from: "0-0" }));
    expect(late.seen()).toEqual(["gap 0-0", "newer"]);
    expect(live.ids()[0]).toBe("1000000-1");
    expect(broker.retained("room")).toBe(1);
  });

  it("keeps nothing by default: a replay from an earlier id gets a gap, then live messages", async () => {
    const broker = createMemoryBroker();
    const live = collect(broker.topic("room", {}));
    await broker.publish("room", "m1");
    await broker.publish("room", "m2");
    expect(broker.retained("room")).toBe(0);
    const late = collect(broker.topic("room", { from: live.ids()[0] as string }));
    await broker.publish("room", "m3");
    expect(late.seen()).toEqual([`gap ${live.ids()[0]}`, "m3"]);
  });

  it("answers a malformed id, or one past the topic's last, with a gap and then every live message", async () => {
    const broker = createMemoryBroker({ retention: { maxLength: 10 } });
    await broker.publish("room", "m1");
    const malformed = collect(broker.topic("room", { from: "not an id" }));
    const future = collect(broker.topic("room", { from: "99999999999999-5" }));
    await broker.publish("room", "m2");
    expect(malformed.seen()).toEqual(["gap not an id", "m2"]);
    // The forged position is not trusted: live messages are not skipped as "already seen".
    expect(future.seen()).toEqual(["gap 99999999999999-5", "m2"]);
  });

  it("keeps plain topics as they were: payloads only, counted with the replaying subscriptions", async () => {
    const broker = createMemoryBroker({ retention: { maxLength: 10 } });
    const plain: unknown[] = [];
    const stop = broker.topic("room").subscribe((payload) => plain.push(payload));
    const replay = collect(broker.topic("room", {}));
    expect(broker.subscriberCount("room")).toBe(2);
    const bytes = new Uint8Array([1, 2]);
    await broker.publish("room", bytes);
    expect(plain).toEqual([bytes]);
    expect(replay.got[0]).toMatchObject({ type: "message", payload: bytes });
    stop();
    replay.stop();
    expect(broker.subscriberCount("room")).toBe(0);
  });
});

describe("a replaying topic as a connection's selector", () => {
  interface Deps {
    broker: ReplayBroker;
  }
  const app = (broker: ReplayBroker, from?: string) => (request: Request) =>
    upgradeWebSocket(request, {
      dependencies: { broker },
      onError: () => {},
      onInit: (_c: Connection, deps: Deps): [null, Selector<TopicEvent>] => [null, deps.broker.topic("room", { from })],
      // A new selector object on every turn, as handlers naturally write it: the subscription stays.
      onMessage: (state: null, message: Message<TopicEvent>, connection: Connection, deps: Deps) => {
        if (message.type === "custom") {
          const event = message.value;
          sendText(connection, event.type === "gap" ? `gap after ${event.after}` : `${event.id} ${String(event.payload)}`);
        }
        return continueConnectionWithSelector(state, deps.broker.topic("room", { from }));
      },
      onClose: () => {},
    });

  it("feeds the replay then live messages into the loop, each once, though the handler returns the selector every turn", async () => {
    const broker = createMemoryBroker({ retention: { maxLength: 100 } });
    const watcher = collect(broker.topic("room", {}));
    for (let i = 1; i <= 3; i++) await broker.publish("room", `m${i}`);
    const from = watcher.ids()[0] as string;
    const socket = await connect(app(broker, from), upgradeRequest("http://localhost/"));
    await socket.settled();
    await broker.publish("room", "m4");
    await socket.settled();
    const ids = watcher.ids();
    expect(socket.texts()).toEqual([`${ids[1]} m2`, `${ids[2]} m3`, `${ids[3]} m4`]);
    expect(broker.subscriberCount("room")).toBe(2);
    socket.close();
    await socket.settled();
    expect(broker.subscriberCount("room")).toBe(1);
  });
});

describe("createTestBroker: a partition", () => {
  it("holds publishes while partitioned and sends them in order on heal; subscribers get nothing meanwhile", async () => {
    const broker = createTestBroker({ retention: { maxLength: 100 } });
    const live = collect(broker.topic("room", {}));
    await broker.publish("room", "before");
    broker.partition();
    expect(broker.partitioned).toBe(true);
    const waiting = [broker.publish("room", "during 1"), broker.publish("room", "during 2")];
    await flush();
    expect(live.seen()).toEqual(["before"]);
    broker.heal();
    await Promise.all(waiting);
    await broker.publish("room", "after");
    expect(live.seen()).toEqual(["before", "during 1", "during 2", "after"]);
  });

  it("rejects with a typed PublishError: buffer_full past maxBufferedBytes, timeout past publishTimeout", async () => {
    const broker = createTestBroker({ maxBufferedBytes: 1000, publishTimeout: 50 });
    broker.partition();
    const accepted = broker.publish("room", "x".repeat(400)); // 400 + 256
    const refused = broker.publish("room", "y".repeat(400));
    await expect(refused).rejects.toBeInstanceOf(PublishError);
    await expect(refused).rejects.toMatchObject({ reason: "buffer_full", topic: "room" });
    await expect(accepted).rejects.toMatchObject({ reason: "timeout" });
    // Expired ones free the buffer, and are not sent on heal.
    const got: unknown[] = [];
    broker.topic("room").subscribe((payload) => got.push(payload));
    const later = broker.publish("room", "z");
    broker.heal();
    await later;
    expect(got).toEqual(["z"]);
  });

  it("times a publish out after publishTimeout though the wall clock is set back meanwhile", async () => {
    vi.useFakeTimers();
    try {
      const broker = createTestBroker({ publishTimeout: 200 });
      broker.partition();
      const waiting = broker.publish("room", "x");
      const outcome = waiting.then(
        () => "sent",
        (error: PublishError) => error.reason,
      );
      // NTP sets the clock back an hour: the deadline was on the wall clock, so it waited an hour.
      vi.setSystemTime(Date.now() - 3_600_000);
      await vi.advanceTimersByTimeAsync(250);
      expect(await Promise.race([outcome, Promise.resolve("still waiting")])).toBe("timeout");
    } finally {
      vi.useRealTimers();
    }
  });

  it("lets a replay wait for the store, then reads it", async () => {
    const broker = createTestBroker({ retention: { maxLength: 100 } });
    const watcher = collect(broker.topic("room", {}));
    await broker.publish("room", "m1");
    await broker.publish("room", "m2");
    broker.partition();
    const late = collect(broker.topic("room", { from: watcher.ids()[0] as string }));
    await flush();
    expect(late.seen()).toEqual([]);
    broker.heal();
    await flush();
    await broker.publish("room", "m3");
    expect(late.seen()).toEqual(["m2", "m3"]);
  });

  it("rejects what still waits when the broker closes", async () => {
    const broker = createTestBroker();
    broker.partition();
    const waiting = broker.publish("room", "x");
    await broker.close();
    await expect(waiting).rejects.toMatchObject({ reason: "closed" });
    await expect(broker.publish("room", "y")).rejects.toMatchObject({ reason: "closed" });
  });
});

describe("createTestBroker: a restart", () => {
  it("without its data: live subscribers get a gap before the next message, replays from earlier ids too", async () => {
    const broker = createTestBroker({ retention: { maxLength: 100 } });
    const live = collect(broker.topic("room", {}));
    await broker.publish("room", "m1");
    await broker.publish("room", "m2");
    const [first, second] = live.ids() as [string, string];
    broker.restart();
    expect(broker.retained("room")).toBe(0);
    await broker.publish("room", "m3");
    expect(live.seen()).toEqual(["m1", "m2", `gap ${second}`, "m3"]);
    // The new count starts in a later millisecond, so its ids sort after every earlier one.
    const [ms, seq] = (live.ids()[2] as string).split("-").map(Number);
    expect(seq).toBe(1);
    expect(ms).toBeGreaterThan(Number(second.split("-")[0]));
    const late = collect(broker.topic("room", { from: first }));
    expect(late.seen()).toEqual([`gap ${first}`, "m3"]);
  });

  it("with its data (a Redis with AOF): nothing changes for subscribers", async () => {
    const broker = createTestBroker({ retention: { maxLength: 100 } });
    const live = collect(broker.topic("room", {}));
    await broker.publish("room", "m1");
    broker.restart({ keepData: true });
    await broker.publish("room", "m2");
    expect(live.seen()).toEqual(["m1", "m2"]);
    const late = collect(broker.topic("room", { from: "0-0" }));
    expect(late.seen()).toEqual(["m1", "m2"]);
  });
});
