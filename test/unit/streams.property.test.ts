// Replay and order under random interleavings (fast-check): publishes, subscriptions from no id,
// from 0-0, from an id seen earlier or from garbage, unsubscriptions, partitions and heals, restarts
// with and without data, with random retention. Whatever happens, every subscriber sees messages in
// one order (the order of a subscriber that saw them all), each once, with the payload published
// under that id; it never skips one without a gap notice; it gets every message published after it
// subscribed; and when nothing it asked for was lost, it gets exactly what followed its `from`.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TopicEvent } from "../../src/index.ts";
import { createTestBroker } from "../../src/testing.ts";

type Op =
  | { kind: "publish" }
  | { kind: "subscribe"; from: "none" | "zero" | "garbage" | { seen: number } }
  | { kind: "unsubscribe"; which: number }
  | { kind: "partition" | "heal" | "tick" }
  | { kind: "restart"; keepData: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: "publish" } as const) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("subscribe" as const),
      from: fc.oneof(
        fc.constantFrom("none" as const, "zero" as const, "garbage" as const),
        fc.record({ seen: fc.nat() }),
        fc.record({ seen: fc.nat() }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unsubscribe" as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: "partition" } as const, { kind: "heal" } as const, { kind: "tick" } as const) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const), keepData: fc.boolean() }) },
);

interface Subscriber {
  readonly events: TopicEvent[];
  readonly from: string | undefined;
  /** How many messages the oracle had when it subscribed. */
  readonly startIndex: number;
  /** True when everything after `from` was still retained, and no restart lost the log since: no gap allowed. */
  whole: boolean;
  /** The oracle index of `from` (-1 for 0-0). */
  readonly fromIndex: number | undefined;
  /** Subscribed during the current partition: it reads the log only once it heals. */
  waiting: boolean;
  /** True when it must get every message published after it subscribed. */
  complete: boolean;
  stop: (() => void) | undefined;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const idOf = (event: TopicEvent) => (event.type === "message" ? event.id : undefined);

async function run(maxLength: number, ops: Op[]): Promise<void> {
  const broker = createTestBroker({ retention: { maxLength } });
  const oracle: TopicEvent[] = [];
  broker.topic("t", {}).subscribe((event) => oracle.push(event));
  const messages = () => oracle.filter((event) => event.type === "message") as Extract<TopicEvent, { type: "message" }>[];
  const published: string[] = [];
  const pending: Promise<void>[] = [];
  const subscribers: Subscriber[] = [];
  /** Oracle index of the first message after the last restart that lost the log. */
  let lostBefore = 0;
  /** Where each log began: 0, then the first message after each restart that lost the log. */
  const starts = [0];
  const heal = () => {
    // What waited in the partition is appended at once, before a waiting replay has read the log:
    // it may push out what that replay still had to read.
    for (const subscriber of subscribers) {
      if (!subscriber.waiting) continue;
      subscriber.waiting = false;
      if (subscriber.fromIndex !== undefined && subscriber.fromIndex + 1 < published.length - maxLength) subscriber.whole = false;
      // The same for what was published after it subscribed (when it replays: live-only ones do not read).
      if (subscriber.from !== undefined && subscriber.startIndex < published.length - maxLength) subscriber.complete = false;
    }
    broker.heal();
  };

  for (const step of ops) {
    if (step.kind === "publish") {
      const payload = `p${published.length}`;
      published.push(payload);
      pending.push(broker.publish("t", payload));
    } else if (step.kind === "subscribe") {
      const known = messages();
      let from: string | undefined;
      let fromIndex: number | undefined;
      if (step.from === "zero") {
        from = "0-0";
        fromIndex = -1;
      } else if (step.from === "garbage") from = "x-1";
      else if (step.from !== "none") {
        if (known.length === 0) continue;
        fromIndex = step.from.seen % known.length;
        from = known[fromIndex]?.id;
      }
      // Whole: what followed `from` is retained (the last maxLength messages; those still waiting in
      // a partition are not in the log yet), and `from` is not from before a restart that lost the
      // log (the store cannot tell what it lost, so it reports a gap).
      const whole =
        fromIndex !== undefined &&
        fromIndex + 1 >= known.length - maxLength &&
        (fromIndex === -1 ? lostBefore === 0 : fromIndex >= lostBefore);
      const events: TopicEvent[] = [];
      const subscriber: Subscriber = {
        events,
        from,
        startIndex: known.length,
        whole,
        fromIndex,
        waiting: broker.partitioned,
        complete: true,
        stop: undefined,
      };
      subscriber.stop = broker.topic("t", from === undefined ? {} : { from }).subscribe((event) => events.push(event));
      subscribers.push(subscriber);
    } else if (step.kind === "unsubscribe") {
      const subscriber = subscribers[step.which % Math.max(1, subscribers.length)];
      subscriber?.stop?.();
      if (subscriber) subscriber.stop = undefined;
    } else if (step.kind === "partition") broker.partition();
    else if (step.kind === "heal") heal();
    else if (step.kind === "restart") {
      broker.restart({ keepData: step.keepData });
      if (!step.keepData) {
        lostBefore = messages().length;
        starts.push(lostBefore);
        // The next message shows the break to every subscriber, whether it missed anything or not.
        for (const subscriber of subscribers) subscriber.whole = false;
      }
    } else await tick();
    await Promise.resolve();
  }
  heal();
  await Promise.all(pending);
  await tick();

  // The oracle saw every publish once, in publish order, and gaps only after lossy restarts.
  const all = messages();
  expect(all.map((event) => event.payload)).toEqual(published);
  const order = new Map(all.map((event, index) => [event.id, index]));

  for (const subscriber of subscribers) {
    const context = `from ${subscriber.from} (whole: ${subscriber.whole}), retention ${maxLength}: ${JSON.stringify(subscriber.events)}`;
    if (subscriber.from === "x-1") expect(subscriber.events[0], context).toEqual({ type: "gap", after: "x-1" });
    let previous: number | undefined = subscriber.fromIndex;
    let gapBefore = subscriber.from === "x-1";
    for (const event of subscriber.events) {
      if (event.type === "gap") {
        gapBefore = true;
        continue;
      }
      const index = order.get(event.id);
      expect(index, `an id the oracle never saw: ${context}`).toBeDefined();
      expect(event.payload, context).toBe(all[index as number]?.payload);
      // One order, each once, and no message skipped without a gap notice.
      if (previous !== undefined) {
        expect(index as number, context).toBeGreaterThan(previous);
        // From 0-0, the first message without a gap is the first of a log (number 1).
        if (!gapBefore && previous === -1) expect(starts, context).toContain(index);
        else if (!gapBefore) expect(index, context).toBe(previous + 1);
      }
      previous = index;
      gapBefore = false;
    }
    if (subscriber.whole) {
      expect(
        subscriber.events.some((event) => event.type === "gap"),
        context,
      ).toBe(false);
    }
    // Still subscribed: it has every message published after it subscribed, up to the last (unless
    // it replayed through a partition whose publishes pushed those out of the log before it read).
    if (subscriber.stop && subscriber.complete) {
      const got = new Set(subscriber.events.map(idOf));
      for (const event of all.slice(subscriber.startIndex)) expect(got.has(event.id), context).toBe(true);
      if (subscriber.whole) {
        const expected = all.slice((subscriber.fromIndex as number) + 1).map((event) => event.id);
        expect(subscriber.events.map(idOf), context).toEqual(expected);
      }
    }
    subscriber.stop?.();
  }
  expect(broker.subscriberCount("t")).toBe(1);
}

describe("replayable topics under random interleavings", () => {
  it("keep one order, lose nothing silently, and replay exactly what followed `from` when it was retained", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 3, 10, 1000), fc.array(op, { maxLength: 60 }), (maxLength, ops) =>
        run(maxLength, ops),
      ),
      { numRuns: Number(process.env.STREAMS_PROPERTY_RUNS ?? 400) },
    );
  });
});
