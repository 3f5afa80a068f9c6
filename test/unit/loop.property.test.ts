// The loop's promises under random interleavings (fast-check): frames, selector values, selector
// swaps, client closes, dropped connections, server closes, sync and async handlers with random
// delays, throws and rejections. Whatever happens: each source's order is kept, no two handlers of
// one connection overlap, nothing runs after onClose, onClose runs once (never after a failed
// onInit), every subscription, membership and registry entry is released, and the queue stays
// within its bound. Flow control: reading is paused whenever the queue weighs pauseReadingAt or
// more, resumed only below resumeReadingAt (or once the loop ends), never paused at the end; and a
// client that honours the pause is never closed and loses nothing.
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Transport } from "../../src/core/connection.ts";
import { Session } from "../../src/core/session.ts";
import { MESSAGE_OVERHEAD } from "../../src/core/size.ts";
import { type Limits, takeUpgrade } from "../../src/core/upgrade.ts";
import {
  type Action,
  continueConnection,
  continueConnectionWithSelector,
  createMemoryBroker,
  createSubject,
  type Message,
  mapSelector,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";
import { upgradeRequest } from "../../src/testing.ts";

/** What a handler does with a message: its outcome and, for async ones, how long it takes. */
type Behaviour =
  | { kind: "continue" }
  | { kind: "swap" }
  | { kind: "stop" }
  | { kind: "throw" }
  | { kind: "async"; ms: number; outcome: "continue" | "swap" | "stop" | "reject" | "echo" };

type Command =
  | { kind: "text"; behaviour: Behaviour; size: number }
  | { kind: "custom"; source: "a" | "b"; behaviour: Behaviour; fails: boolean }
  | { kind: "close" | "disconnect" | "serverClose" | "slowConsumer" }
  | { kind: "wait"; ms: number }
  | { kind: "burst"; count: number; size: number };

const behaviour: fc.Arbitrary<Behaviour> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: "continue" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "swap" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "stop" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "throw" } as const) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("async" as const),
      ms: fc.integer({ min: 0, max: 30 }),
      outcome: fc.constantFrom("continue", "continue", "continue", "swap", "stop", "reject", "echo"),
    }),
  },
);

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("text" as const), behaviour, size: fc.integer({ min: 0, max: 300 }) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("custom" as const),
      // A value the selector's map function throws on: the loop fails from outside its turn.
      fails: fc.integer({ min: 0, max: 15 }).map((n) => n === 0),
      source: fc.constantFrom("a" as const, "b" as const),
      behaviour,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "close" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "disconnect" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "serverClose" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "slowConsumer" } as const) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 40 }) }) },
  // A client sending faster than the handler: many frames at once.
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("burst" as const),
      count: fc.integer({ min: 1, max: 40 }),
      size: fc.integer({ min: 0, max: 200 }),
    }),
  },
);

const init = fc.constantFrom("sync", "async", "throw", "reject", "async-selector-b");

interface Observed {
  /** Sequence numbers handled, per source. */
  handled: { text: number[]; a: number[]; b: number[] };
  running: number;
  overlapped: boolean;
  closes: number;
  afterClose: boolean;
  closedNotices: number;
  errors: number;
}

const MAX_QUEUED = 2 * 1024;
const MAX_MESSAGE = 1024;

async function run(initKind: string, commands: Command[]): Promise<void> {
  const a = createSubject<string>();
  const b = createSubject<string>();
  const failIfMarked = (value: string) => {
    if (value.endsWith("!")) throw new Error("the selector cannot map this");
    return value;
  };
  const selectA = mapSelector(a.selector, failIfMarked);
  const selectB = mapSelector(b.selector, failIfMarked);
  const broker = createMemoryBroker();
  const registry = new Set<Session>();
  const behaviours = new Map<string, Behaviour>();
  const seen: Observed = {
    handled: { text: [], a: [], b: [] },
    running: 0,
    overlapped: false,
    closes: 0,
    afterClose: false,
    closedNotices: 0,
    errors: 0,
  };
  const enter = () => {
    if (seen.running++ > 0) seen.overlapped = true;
    if (seen.closes > 0) seen.afterClose = true;
  };

  const act = (thing: "continue" | "swap" | "stop", state: number): Action<number, string> =>
    thing === "stop"
      ? stopConnection({ code: 4000 })
      : thing === "swap"
        ? continueConnectionWithSelector(state + 1, state % 2 === 0 ? selectB : selectA)
        : continueConnection(state + 1);

  const onMessage = (state: number, message: Message<string>) => {
    enter();
    let key = "";
    if (message.type === "closed") {
      seen.closedNotices++;
      seen.running--;
      return continueConnection(state);
    }
    if (message.type === "text") {
      const [seq] = message.text.split(":");
      seen.handled.text.push(Number(seq));
      key = `t${seq}`;
    } else if (message.type === "custom") {
      const [source, seq] = message.value.split(":");
      seen.handled[source as "a" | "b"].push(Number(seq));
      key = `${source}${seq}`;
    }
    const todo = behaviours.get(key) ?? { kind: "continue" };
    if (todo.kind === "throw") {
      seen.running--;
      throw new Error("handler throws");
    }
    if (todo.kind !== "async") {
      seen.running--;
      return act(todo.kind, state);
    }
    return new Promise<Action<number, string>>((resolve, reject) => {
      setTimeout(() => {
        seen.running--;
        if (todo.outcome === "reject") reject(new Error("handler rejects"));
        else if (todo.outcome === "echo") {
          // A handler that feeds its own selector while it runs: the value waits for the next turn.
          a.send(`a:${nextA++}`);
          resolve(continueConnection(state + 1));
        } else resolve(act(todo.outcome, state));
      }, todo.ms);
    });
  };

  let nextA = 1_000_000;
  const request = upgradeRequest();
  const response = upgradeWebSocket(request, {
    dependencies: null,
    maxMessageSize: MAX_MESSAGE,
    maxQueuedBytes: MAX_QUEUED,
    maxBufferedAmount: 10,
    slowConsumerLimit: 10,
    closeTimeout: 0.05,
    idleTimeout: 0,
    onError: () => {
      seen.errors++;
    },
    onInit: (connection) => {
      broker.join(connection, "room");
      switch (initKind) {
        case "throw":
          throw new Error("init throws");
        case "reject":
          return new Promise<never>((_, reject) => setTimeout(() => reject(new Error("init rejects")), 5));
        case "async":
          return new Promise<[number, typeof selectA]>((resolve) => setTimeout(() => resolve([0, selectA]), 5));
        case "async-selector-b":
          return new Promise<[number, typeof selectB]>((resolve) => setTimeout(() => resolve([0, selectB]), 5));
        default:
          return [0, selectA];
      }
    },
    onMessage,
    onClose: () => {
      enter();
      seen.closes++;
      seen.running--;
    },
  });
  const pending = takeUpgrade(request, response);
  if (!pending) throw new Error("no upgrade");
  const flow = watchFlow(pending.limits, () => session);
  const transport: Transport & { bufferedAmount: number } = {
    send: () => true,
    close: () => {},
    terminate: () => {},
    ...flow.producer,
    bufferedAmount: 0,
  };
  const session = new Session(pending, transport, (s) => registry.delete(s));
  registry.add(session);
  session.start();

  let text = 0;
  const sent = { a: 0, b: 0 };
  const maxWeight = MAX_MESSAGE + MESSAGE_OVERHEAD;
  for (const step of commands) {
    switch (step.kind) {
      case "text":
        behaviours.set(`t${text}`, step.behaviour);
        session.text(`${text++}:${"x".repeat(step.size)}`);
        break;
      case "custom": {
        const seq = sent[step.source]++;
        behaviours.set(`${step.source}${seq}`, step.behaviour);
        (step.source === "a" ? a : b).send(`${step.source}:${seq}${step.fails ? "!" : ""}`);
        break;
      }
      case "close":
        session.closed(1000, "");
        break;
      case "disconnect":
        session.closed(1006, "");
        break;
      case "serverClose":
        session.closeWith(1001, "Server shutting down");
        break;
      case "slowConsumer":
        transport.bufferedAmount = 100;
        void broker.publishFrame("room", "x".repeat(20));
        transport.bufferedAmount = 0;
        break;
      case "burst":
        for (let i = 0; i < step.count; i++) {
          behaviours.set(`t${text}`, { kind: "async", ms: 1, outcome: "continue" });
          session.text(`${text++}:${"y".repeat(step.size)}`);
        }
        break;
      case "wait":
        await vi.advanceTimersByTimeAsync(step.ms);
        break;
    }
    expect(session.mailbox?.bytes ?? 0).toBeLessThanOrEqual(MAX_QUEUED + maxWeight);
    flow.check();
  }
  session.closed(1006, "");
  for (let i = 0; i < 100 && registry.size > 0; i++) await vi.advanceTimersByTimeAsync(100);

  expect(registry.size).toBe(0);
  expect(flow.paused).toBe(false);
  expect(flow.violations).toEqual([]);
  expect(seen.overlapped).toBe(false);
  expect(seen.afterClose).toBe(false);
  const initFailed = initKind === "throw" || initKind === "reject";
  expect(seen.closes).toBe(initFailed ? 0 : 1);
  expect(session.closeCalled).toBe(!initFailed);
  expect(seen.closedNotices).toBeLessThanOrEqual(1);
  for (const source of ["text", "a", "b"] as const) {
    const order = seen.handled[source].filter((n) => n < 1_000_000);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(new Set(order).size).toBe(order.length);
  }
  expect(a.subscriberCount).toBe(0);
  expect(b.subscriberCount).toBe(0);
  expect(broker.memberCount("room")).toBe(0);
}

/**
 * A transport's pause and resume that record what the loop asked for, and the flow-control
 * invariants it broke: paused only at pauseReadingAt or more, resumed only below resumeReadingAt
 * or once the loop ends, never twice in a row, and paused whenever the queue is at pauseReadingAt.
 */
function watchFlow(limits: Limits, session: () => Session) {
  const state = {
    paused: false,
    pauses: 0,
    violations: [] as string[],
    onResume: () => {},
    producer: {
      pause() {
        const bytes = session().mailbox?.bytes ?? 0;
        if (state.paused) state.violations.push("paused twice");
        if (bytes < limits.pauseReadingAt) state.violations.push(`paused at ${bytes} bytes`);
        state.paused = true;
        state.pauses++;
      },
      resume() {
        const bytes = session().mailbox?.bytes ?? 0;
        if (!state.paused) state.violations.push("resumed while reading");
        if (!session().ending && bytes >= limits.resumeReadingAt) state.violations.push(`resumed at ${bytes} bytes`);
        state.paused = false;
        state.onResume();
      },
    },
    /** Between steps: paused exactly while a live loop's queue has not gone below resumeReadingAt since it reached pauseReadingAt. */
    check() {
      const bytes = session().mailbox?.bytes ?? 0;
      if (session().ending) return;
      if (bytes >= limits.pauseReadingAt && !state.paused) state.violations.push(`reading at ${bytes} bytes`);
      if (state.paused && bytes < limits.resumeReadingAt) state.violations.push(`paused at ${bytes} bytes, below low water`);
    },
  };
  return state;
}

/**
 * A client that honours flow control, as TCP makes it: it stops sending while reading is paused,
 * except for the `chunk` frames the runtime had read already. With a queue bound above
 * pauseReadingAt plus that chunk, nobody is closed and every frame is handled once, in order.
 */
async function runHonest(frames: { size: number; ms: number }[], chunk: number): Promise<void> {
  const handled: number[] = [];
  let running = 0;
  let overlapped = false;
  const request = upgradeRequest();
  const response = upgradeWebSocket(request, {
    dependencies: null,
    maxMessageSize: 256,
    maxQueuedBytes: 4096 + 10 * 512,
    pauseReadingAt: 4096,
    resumeReadingAt: 2048,
    idleTimeout: 0,
    onInit: (): [null] => [null],
    onMessage: (state: null, message: Message<never>) => {
      if (message.type !== "text") return continueConnection(state);
      if (running++ > 0) overlapped = true;
      const seq = Number(message.text.split(":")[0]);
      const ms = frames[seq]?.ms ?? -1;
      const done = () => {
        running--;
        handled.push(seq);
        return continueConnection(state);
      };
      // A negative delay: a synchronous handler.
      return ms < 0 ? done() : new Promise<Action<null, never>>((resolve) => setTimeout(() => resolve(done()), ms));
    },
    onClose: () => {},
  });
  const pending = takeUpgrade(request, response);
  if (!pending) throw new Error("no upgrade");
  const flow = watchFlow(pending.limits, () => session);
  let closedWith: number | undefined;
  const transport: Transport = {
    send: () => true,
    close: (code) => {
      closedWith = code;
    },
    terminate: () => {},
    ...flow.producer,
    bufferedAmount: 0,
  };
  const session = new Session(pending, transport);
  session.start();
  let next = 0;
  const pump = () => {
    let extra = chunk;
    while (next < frames.length && (!flow.paused || extra-- > 0)) {
      session.text(`${next}:${"z".repeat(frames[next]?.size ?? 0)}`);
      next++;
      flow.check();
    }
  };
  // Reading resumes in a later turn of the event loop, as on a runtime.
  flow.onResume = () => void setTimeout(pump, 0);
  pump();
  for (let i = 0; i < 10_000 && (handled.length < frames.length || next < frames.length); i++) {
    await vi.advanceTimersByTimeAsync(5);
    flow.check();
  }
  expect(closedWith).toBeUndefined();
  expect(handled).toEqual(frames.map((_, i) => i));
  expect(overlapped).toBe(false);
  expect(flow.paused).toBe(false);
  expect(flow.violations).toEqual([]);
  session.closed(1000, "");
  await vi.advanceTimersByTimeAsync(0);
  expect(session.closeCalled).toBe(true);
}

describe("the loop under random interleavings", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps order, one handler at a time, onClose once, pauses reading by the marks, and releases everything", async () => {
    await fc.assert(
      fc.asyncProperty(init, fc.array(command, { maxLength: 60 }), (initKind, commands) => run(initKind, commands)),
      { numRuns: Number(process.env.LOOP_PROPERTY_RUNS ?? 1500) },
    );
  }, 120_000);

  it("never closes a client that honours the pause, and handles each of its frames once, in order", async () => {
    const frame = fc.record({ size: fc.integer({ min: 0, max: 200 }), ms: fc.integer({ min: -1, max: 4 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 150 }), fc.integer({ min: 0, max: 8 }), (frames, chunk) =>
        runHonest(frames, chunk),
      ),
      { numRuns: Number(process.env.LOOP_PROPERTY_RUNS ?? 1500) / 5 },
    );
  }, 120_000);
});
