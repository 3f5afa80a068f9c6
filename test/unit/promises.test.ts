// One regression test per way the loop used to break its promises (order, one at a time, onClose
// once, a failure touching only its own socket, bounded memory, nothing leaked).
import type { Peer } from "crossws";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OpenSockets } from "../../src/adapters/open-sockets.ts";
import { sessionHooks } from "../../src/adapters/session-hooks.ts";
import type { Session } from "../../src/core/session.ts";
import { MESSAGE_OVERHEAD } from "../../src/core/size.ts";
import type { StandardSchemaV1 } from "../../src/core/standard-schema.ts";
import {
  type Action,
  type Connection,
  continueConnection,
  continueConnectionWithSelector,
  createMemoryBroker,
  createSubject,
  jsonMessages,
  type Message,
  mapSelector,
  mergeSelectors,
  type Payload,
  type Selector,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

const quiet = { onError: () => {} };

/** A connection whose handlers log what they see into `seen`; `handle` decides the action. */
function open<Custom>(
  selector: () => Selector<Custom> | undefined,
  handle: (message: Message<Custom>, connection: Connection) => Action<null, Custom> | Promise<Action<null, Custom>>,
  options: Record<string, unknown> = {},
) {
  const seen: string[] = [];
  const socket = connect<null, Custom>(
    upgradeWebSocket(upgradeRequest(), {
      ...quiet,
      dependencies: null,
      onInit: (): [null] | [null, Selector<Custom>] => {
        const s = selector();
        return s ? [null, s] : [null];
      },
      onMessage: (_s: null, message: Message<Custom>, connection: Connection) => {
        seen.push(message.type === "custom" ? String(message.value) : message.type === "text" ? message.text : message.type);
        return handle(message, connection);
      },
      onClose: () => {
        seen.push("onClose");
      },
      ...options,
    }),
  );
  return { seen, socket };
}

describe("order across connections", () => {
  for (const kind of ["memory broker", "subject"] as const) {
    it(`keeps publish order when a handler publishes while handling (${kind})`, async () => {
      const broker = createMemoryBroker();
      const subject = createSubject<Payload>();
      const selector = () => (kind === "subject" ? subject.selector : broker.topic("t"));
      const publish = (value: string) => (kind === "subject" ? subject.send(value) : void broker.publish("t", value));
      // A publishes m2 while it handles m1, before its first await.
      const a = open(selector, async (message) => {
        if (message.type === "custom" && message.value === "m1") publish("m2");
        await Promise.resolve();
        return continueConnection(null);
      });
      const b = open(selector, () => continueConnection(null));
      const [sa, sb] = await Promise.all([a.socket, b.socket]);
      publish("m1");
      await sa.settled();
      await sb.settled();
      expect(b.seen).toEqual(["m1", "m2"]);
      expect(a.seen).toEqual(["m1", "m2"]);
    });
  }
});

describe("selectors replaced on every turn", () => {
  for (const kind of ["memory broker topic", "mapped subject"] as const) {
    it(`deliver each value once (${kind})`, async () => {
      const broker = createMemoryBroker();
      const subject = createSubject<Payload>();
      // A new selector object on every call, as handlers naturally write it.
      const selector = () => (kind === "mapped subject" ? mapSelector(subject.selector, (v) => v) : broker.topic("room"));
      let deliveries = 0;
      const handle = (message: Message<Payload>) => {
        // Bounded, so the old behaviour (delivering forever) ends in a failure instead of a hang.
        if (message.type === "custom" && ++deliveries > 50) throw new Error("delivered again and again");
        return continueConnectionWithSelector(null, selector());
      };
      const sockets = await Promise.all([open(selector, handle).socket, open(selector, handle).socket]);
      if (kind === "mapped subject") subject.send("hello");
      else await broker.publish("room", "hello");
      for (const socket of sockets) await socket.settled();
      expect(deliveries).toBe(2);
      for (const socket of sockets) expect(socket.closedByServer).toBeUndefined();
      expect(kind === "mapped subject" ? subject.subscriberCount : broker.subscriberCount("room")).toBe(2);
    });
  }
});

/** A crossws peer as the adapters see it, enough to run sessionHooks without a runtime. */
function fakePeer(context: Record<string, unknown>): Peer {
  return { context, send: () => 0, close: () => {}, terminate: () => {}, ping: () => {}, bufferedAmount: 0 } as unknown as Peer;
}

describe("the adapters' registry", () => {
  it("forgets a session whose onInit throws synchronously (it used to be registered after its removal)", async () => {
    const { takeUpgrade } = await import("../../src/core/upgrade.ts");
    const sessions = new Set<Session>();
    const hooks = sessionHooks({ canPing: true }, { sessions, sockets: new OpenSockets(), opened: () => {} });
    for (let i = 0; i < 20; i++) {
      const request = upgradeRequest();
      const response = upgradeWebSocket(request, {
        ...quiet,
        dependencies: new Uint8Array(1024),
        onInit: () => {
          throw new Error("no");
        },
        onMessage: () => continueConnection(null),
        onClose: () => {},
      });
      // What loops.ts' upgrade hook leaves on the peer's context for an accepted upgrade.
      hooks.open?.(fakePeer({ wsloop: takeUpgrade(request, response) }));
    }
    expect(sessions.size).toBe(0);
  });
});

describe("one handler at a time", () => {
  it("runs onClose only after a pending onMessage settled when a selector fails", async () => {
    const subject = createSubject<string>();
    const failing = mapSelector(subject.selector, (value) => {
      if (value === "bad") throw new Error("cannot map");
      return value;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let running = 0;
    let overlapped = false;
    const { seen, socket } = open(
      () => failing,
      async () => {
        running++;
        await gate;
        running--;
        return continueConnection(null);
      },
      {
        onClose: () => {
          if (running > 0) overlapped = true;
          seen.push("onClose");
        },
      },
    );
    const s = await socket;
    s.sendText("slow");
    subject.send("bad");
    expect(s.closedByServer).toEqual({ code: 1011, reason: "Internal Error" });
    await Promise.resolve();
    expect(s.closeCalled).toBe(false);
    release();
    await s.settled();
    expect(overlapped).toBe(false);
    expect(seen).toEqual(["slow", "onClose"]);
  });

  it("never runs another connection's handlers inside sendText, publishFrame or the keepalive sweep", async () => {
    const broker = createMemoryBroker();
    const slow = open(
      () => undefined,
      () => continueConnection(null),
      { maxBufferedAmount: 10, slowConsumerLimit: 10 },
    );
    let slowConnection!: Connection;
    const { socket } = open(
      () => undefined,
      () => continueConnection(null),
      {
        onInit: (c: Connection): [null] => {
          slowConnection = c;
          broker.join(c, "frames");
          return [null];
        },
        maxBufferedAmount: 10,
        slowConsumerLimit: 10,
      },
    );
    const s = await socket;
    await slow.socket;
    s.bufferedAmount = 100;
    // The slow consumer's close is decided here; its closed notice and onClose wait for its own turn.
    void broker.publishFrame("frames", "x".repeat(100));
    expect(s.closedByServer?.code).toBe(1008);
    expect(s.closeCalled).toBe(false);
    expect(sendText(slowConnection, "more")).toEqual({ ok: false, error: { type: "closed" } });
    expect(s.closeCalled).toBe(false);
    await s.settled();
    expect(s.closeCalled).toBe(true);
  });
});

describe("selectors that fail while subscribing", () => {
  it("are unsubscribed when they report an error from inside subscribe", async () => {
    let unsubscribed = 0;
    const failing: Selector<string> = {
      subscribe(_deliver, onError) {
        onError?.(new Error("broken at once"));
        return () => {
          unsubscribed++;
        };
      },
    };
    const { socket } = open(
      () => failing,
      () => continueConnection(null),
    );
    const s = await socket;
    await s.settled();
    expect(s.closedByServer?.code).toBe(1011);
    expect(unsubscribed).toBe(1);
  });

  it("mergeSelectors unsubscribes the ones already subscribed when a later subscribe throws", () => {
    const subject = createSubject<string>();
    const throwing: Selector<string> = {
      subscribe() {
        throw new Error("no");
      },
    };
    expect(() => mergeSelectors(subject.selector, throwing).subscribe(() => {})).toThrow("no");
    expect(subject.subscriberCount).toBe(0);
  });

  it("mergeSelectors runs every unsubscribe even when one throws, then throws", () => {
    const first = createSubject<string>();
    const last = createSubject<string>();
    const throwing: Selector<string> = {
      subscribe: () => () => {
        throw new Error("unsubscribe failed");
      },
    };
    const unsubscribe = mergeSelectors(first.selector, throwing, last.selector).subscribe(() => {});
    expect(unsubscribe).toThrow("unsubscribe failed");
    expect(first.subscriberCount).toBe(0);
    expect(last.subscriberCount).toBe(0);
  });
});

describe("bounded memory", () => {
  /** An async handler that waits for `gate` on every message: whatever arrives meanwhile queues. */
  function gated(options: Record<string, unknown>, selector: () => Selector<string> | undefined = () => undefined) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const opened = open(
      selector,
      async () => {
        await gate;
        return continueConnection(null);
      },
      options,
    );
    return { ...opened, release: () => release() };
  }

  it("closes with 1008 a client flooding empty frames: each queued message weighs its overhead", async () => {
    const { socket, seen, release } = gated({ maxMessageSize: 1024, maxQueuedBytes: 64 * 1024 });
    const s = await socket;
    for (let i = 0; i < 100_000; i++) s.sendText("");
    expect(s.closedByServer).toEqual({ code: 1008, reason: "Too many queued messages" });
    release();
    await s.settled();
    // Handled: the first (running), what fit in the bound, the one that passed it, the closed notice.
    expect(seen.length).toBeLessThanOrEqual(2 + Math.floor((64 * 1024) / MESSAGE_OVERHEAD) + 2);
  });

  it("counts selector values toward the same bound", async () => {
    const subject = createSubject<string>();
    const { socket, seen, release } = gated({ maxMessageSize: 1024, maxQueuedBytes: 64 * 1024 }, () => subject.selector);
    const s = await socket;
    s.sendText("busy");
    for (let i = 0; i < 100_000; i++) subject.send("v");
    expect(s.closedByServer).toEqual({ code: 1008, reason: "Too many queued messages" });
    expect(subject.subscriberCount).toBeLessThanOrEqual(1);
    release();
    await s.settled();
    expect(seen.length).toBeLessThanOrEqual(2 + Math.floor((64 * 1024) / MESSAGE_OVERHEAD) + 2);
    expect(subject.subscriberCount).toBe(0);
  });

  it("counts queued text in UTF-8 bytes, not UTF-16 units", async () => {
    const limits = { maxMessageSize: 200, maxQueuedBytes: MESSAGE_OVERHEAD + 150 };
    const ascii = gated(limits);
    const a = await ascii.socket;
    a.sendText("busy");
    a.sendText("a".repeat(100));
    expect(a.closedByServer).toBeUndefined();
    const accented = gated(limits);
    const e = await accented.socket;
    e.sendText("busy");
    e.sendText("é".repeat(100)); // 100 units, 200 bytes
    expect(e.closedByServer?.code).toBe(1008);
    ascii.release();
    accented.release();
  });
});

describe("closeTimeout", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("drops what is still queued once the socket closed and closeTimeout passed, then closes the loop", async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const { socket, seen } = open(
      () => undefined,
      async (message) => {
        if (message.type !== "closed") await new Promise((resolve) => setTimeout(resolve, 20));
        return continueConnection(null);
      },
      { closeTimeout: 0.1, onError: (error: unknown) => errors.push(error) },
    );
    const s = await socket;
    for (let i = 0; i < 100; i++) s.sendText(`m${i}`);
    s.disconnect();
    await vi.advanceTimersByTimeAsync(200);
    expect(s.closeCalled).toBe(true);
    // About 100 ms of 20 ms handlers ran, in order; the rest was dropped and reported.
    const handled = seen.filter((entry) => entry.startsWith("m"));
    expect(handled.length).toBeLessThan(10);
    expect(handled).toEqual(handled.map((_, i) => `m${i}`));
    expect(seen.slice(-2)).toEqual(["closed", "onClose"]);
    expect(String(errors[0])).toMatch(/queued messages dropped/);
  });
});

describe("jsonMessages", () => {
  const schema = {
    "~standard": {
      version: 1,
      vendor: "test",
      expected: "string",
      // Uses `this`, and answers with a thenable that is not a native Promise.
      validate(this: { expected: string }, value: unknown) {
        const ok = typeof value === this.expected;
        return {
          // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise is what this tests
          then: (resolve: (result: StandardSchemaV1.Result<string>) => void) =>
            resolve(ok ? { value: value as string } : { issues: [{ message: "not a string" }] }),
        };
      },
    },
  } as unknown as StandardSchemaV1<unknown, string>;

  it("calls validate as a method and awaits a thenable it returns", async () => {
    const seen: string[] = [];
    const s = await connect(
      upgradeWebSocket(upgradeRequest(), {
        ...quiet,
        dependencies: null,
        onInit: (): [null] => [null],
        onMessage: jsonMessages(schema, (state: null, message) => {
          if (message.type === "json") seen.push(message.value);
          if (message.type === "invalid") seen.push("invalid");
          return continueConnection(state);
        }),
        onClose: () => {},
      }),
    );
    s.sendText('"hi"');
    s.sendText("1");
    await s.settled();
    expect(seen).toEqual(["hi", "invalid"]);
    expect(s.closedByServer).toBeUndefined();
  });
});

describe("Connection", () => {
  it("refuses look-alikes at compile time and answers them with an error at run time", () => {
    const lookalike = { id: "x", request: new Request("http://x"), protocol: "" };
    // @ts-expect-error a structural look-alike is not a Connection
    expect(sendText(lookalike, "hi")).toEqual({ ok: false, error: { type: "closed" } });
    expect(() => stopConnection()).not.toThrow();
  });
});

describe("server close()", () => {
  it("stops waiting for a connection whose handler never returns after closeTimeout + 1 s, and reports it", async () => {
    const { createLoops } = await import("../../src/adapters/loops.ts");
    const { takeUpgrade } = await import("../../src/core/upgrade.ts");
    const errors: unknown[] = [];
    const loops = createLoops(() => new Response(null, { status: 404 }), { onError: (e) => errors.push(e), canPing: true });
    const request = upgradeRequest();
    const response = upgradeWebSocket(request, {
      ...quiet,
      dependencies: null,
      closeTimeout: 0.1,
      onInit: (): [null] => [null],
      onMessage: () => new Promise<never>(() => {}),
      onClose: () => {},
    });
    const peer = fakePeer({ wsloop: takeUpgrade(request, response) });
    loops.hooks.open?.(peer);
    loops.hooks.message?.(peer, { rawData: "hang" } as never);
    // It used to wait for ever. Now: closeTimeout + 1 s for the handler, then up to 2 × 2 s for a
    // socket that never reports closed (this fake one never does).
    const started = Date.now();
    await loops.closeAll();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(String(errors.at(-1))).toMatch(/still in a handler after closeTimeout/);
  });
});
