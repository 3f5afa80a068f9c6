// Adversarial review of flow control, rate limits, shutdown and stats (issue 18): each case failed
// before the fix its commit names. Timers are faked where time matters; nothing waits on the clock.
import type { Peer } from "crossws";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { closeInBatches } from "../../src/adapters/drain.ts";
import { createLoops } from "../../src/adapters/loops.ts";
import { KEY } from "../../src/adapters/peer-context.ts";
import { transportFor } from "../../src/adapters/peer-transport.ts";
import { type RateRule, rateRuleOf, TokenBucket } from "../../src/core/rate-limit.ts";
import { Session as LoopSession } from "../../src/core/session.ts";
import { Stats } from "../../src/core/stats.ts";
import { takeUpgrade } from "../../src/core/upgrade.ts";
import { type Action, type Connection, continueConnection, type Message, sendText, upgradeWebSocket } from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";
import { gated, idleHandlers } from "./helpers.ts";

describe("review: rate limit", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a wall clock set back (NTP) does not put the bucket in debt for as long as it went back", async () => {
    const socket = await connect<null>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (): [null] => [null],
        onMessage: (state: null, message: Message<never>, connection: Connection) => {
          if (message.type === "text") sendText(connection, message.text);
          return continueConnection(state);
        },
        onClose: () => {},
        idleTimeout: 0,
        rateLimit: { messagesPerSecond: 10, messageBurst: 10 },
      }),
    );
    socket.sendText("1");
    vi.setSystemTime(Date.now() - 3_600_000);
    socket.sendText("2");
    await socket.settled();
    expect(socket.texts()).toEqual(["1", "2"]);
    expect(socket.closedByServer).toBeUndefined();
  });
});

describe("review: close({ drain })", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("spreads the closes over the whole window when there are fewer sockets than 100 ms batches", async () => {
    const closedAt: number[] = [];
    const start = Date.now();
    const sessions = new Set(
      Array.from({ length: 5 }, () => ({ closeWith: () => closedAt.push(Date.now() - start) }) as unknown as LoopSession),
    );
    const done = closeInBatches(sessions, 10_000);
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(closedAt).toHaveLength(5);
    // Five sockets over 10 s: not all within the first 400 ms.
    expect(Math.max(...closedAt)).toBeGreaterThanOrEqual(7_000);
    expect(Math.max(...closedAt)).toBeLessThan(10_000);
  });

  it("stops waiting once every session left has ended", async () => {
    const sessions = new Set<LoopSession>();
    for (let i = 0; i < 5; i++) {
      const session = { closeWith: () => sessions.clear() } as unknown as LoopSession;
      sessions.add(session);
    }
    let resolved = false;
    void closeInBatches(sessions, 30_000).then(() => {
      resolved = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    // The first close ended them all (their clients went away): nothing left to spread.
    expect(resolved).toBe(true);
  });
});

describe("review: rate limit and flow control", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a client within its rate is not closed when frames TCP held back during a pause all arrive at once", async () => {
    const { socket, openGate } = await gated({ rateLimit: { messagesPerSecond: 10, messageBurst: 10 } });
    // The client sends one frame every 100 ms, its rate exactly; while the server does not read,
    // TCP holds them (here: the test), and they all arrive once it reads again.
    const held: string[] = [];
    for (let i = 0; i < 60; i++) {
      held.push(`m${i}`);
      if (!socket.readingPaused) for (const text of held.splice(0)) socket.sendText(text);
      // The handler takes 300 ms a message: reading pauses, for a second or more at a time.
      if (i % 3 === 2) openGate();
      await vi.advanceTimersByTimeAsync(100);
      if (socket.closedByServer) break;
    }
    expect(socket.closedByServer).toBeUndefined();
  });

  it("the credit of a pause is what the client could have sent meanwhile, spent within as long again", async () => {
    const held = async () => {
      const gates: (() => void)[] = [];
      const socket = await connect<null>(
        upgradeWebSocket(upgradeRequest(), {
          dependencies: null,
          onInit: (): [null] => [null],
          onMessage: async (state: null, message: Message<never>) => {
            if (message.type === "text") await new Promise<void>((resolve) => gates.push(resolve));
            return continueConnection(state);
          },
          onClose: () => {},
          idleTimeout: 0,
          pauseReadingAt: 2000,
          resumeReadingAt: 1000,
          rateLimit: { messagesPerSecond: 10, messageBurst: 10 },
        }),
      );
      for (let i = 0; i < 9; i++) socket.sendText("x"); // 1 token left; reading pauses
      expect(socket.readingPaused).toBe(true);
      await vi.advanceTimersByTimeAsync(2_000); // held 2 s: 20 tokens more, past the burst
      while (socket.readingPaused) {
        gates.shift()?.();
        await vi.advanceTimersByTimeAsync(0);
      }
      return socket;
    };
    const sendUntilClosed = (socket: Awaited<ReturnType<typeof held>>) => {
      let sent = 0;
      while (!socket.closedByServer && sent < 100) {
        socket.sendText("y");
        sent++;
      }
      return sent;
    };
    // At once: 21 frames taken, the 22nd closes.
    expect(sendUntilClosed(await held())).toBe(22);
    // Once the pause's length has passed again, only the burst is left.
    const late = await held();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(sendUntilClosed(late)).toBe(11);
  });
});

describe("review: stats", () => {
  it("counts Bun's slow consumer (a frame dropped over its backpressureLimit) in slowConsumers, once", async () => {
    const request = upgradeRequest();
    const accepted = takeUpgrade(
      request,
      upgradeWebSocket(request, {
        dependencies: null,
        idleTimeout: 0,
        onInit: (): [null] => [null],
        onMessage: (state: null) => continueConnection(state),
        onClose: () => {},
      }),
    );
    if (!accepted) throw new Error("no upgrade");
    const stats = new Stats();
    // Bun's send answers 0 for a frame it dropped on an open socket: the client is too far behind.
    const peer = { send: () => 0, close: () => {}, websocket: { readyState: 1 }, context: {} as Record<string, unknown> };
    const transport = transportFor(peer as unknown as Peer, { canPing: false, sendAnswersBytes: true, stats });
    const session = new LoopSession(accepted, transport);
    peer.context[KEY] = session;
    session.start();
    expect(sendText(session.connection, "x").ok).toBe(false);
    expect(sendText(session.connection, "y").ok).toBe(false);
    expect(stats.slowConsumers).toBe(1);
    expect(stats.closes.get(1008)).toBe(1);
  });
});

describe("review: upgrade handoffs", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a wall clock set back does not hold the places of vanished upgrades (nor close()) for as long", async () => {
    const app = (request: Request) => upgradeWebSocket(request, idleHandlers);
    const loops = createLoops(app, { maxConnections: 2, onError: () => {}, canPing: true });
    const route = async () => {
      const outcome = await loops.route(upgradeRequest(), "a");
      return outcome instanceof Response ? outcome.status : 101;
    };
    // Two accepted upgrades whose sockets never open (their clients vanished after the 101).
    expect([await route(), await route()]).toEqual([101, 101]);
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(2_001);
    expect(await route()).toBe(101);
    let closed = false;
    void loops.closeAll().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(2_100);
    expect(closed).toBe(true);
  });
});

describe("review: idle timeout", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a wall clock set forward does not close every healthy connection at once, unpinged", async () => {
    const socket = await connect<null>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (): [null] => [null],
        onMessage: (state: null) => continueConnection(state),
        onClose: () => {},
        idleTimeout: 10,
      }),
    );
    socket.sendText("hello");
    vi.setSystemTime(Date.now() + 3_600_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(socket.closedByServer).toBeUndefined();
  });
});

describe("review: close() waits for every onClose", () => {
  it("with the largest closeTimeout too (its wait is not a timer that overflows and fires at once)", async () => {
    let finishClose!: () => void;
    const app = (request: Request) =>
      upgradeWebSocket(request, {
        dependencies: null,
        closeTimeout: 2_147_483,
        idleTimeout: 0,
        onInit: (): [null] => [null],
        onMessage: continueConnection,
        onClose: () =>
          new Promise<void>((resolve) => {
            finishClose = resolve;
          }),
      });
    const onError = vi.fn();
    const loops = createLoops(app, { onError, canPing: false });
    const pending = await loops.route(upgradeRequest());
    if (pending instanceof Response) throw new Error("refused");
    const hooks = loops.hooks as Required<typeof loops.hooks>;
    const peer = {
      context: { [KEY]: pending } as Record<string, unknown>,
      websocket: { readyState: 1 },
      send: () => 1,
      // The client answers the close frame at once.
      close: (code: number, reason: string) => queueMicrotask(() => void hooks.close(peer as never, { code, reason })),
      terminate: () => {},
    };
    await hooks.open(peer as never);
    let closed = false;
    const closing = loops.closeAll().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closed).toBe(false);
    expect(onError).not.toHaveBeenCalled();
    finishClose();
    await closing;
  });
});

describe("review: token bucket properties", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const text = { type: "text", text: "x" } as const;

  it("never admits more than burst + rate × elapsed in any window, pauses aside; the wall clock may go back", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 12 }), fc.boolean()), {
          maxLength: 25,
        }),
        (rate, burst, steps) => {
          const bucket = new TokenBucket(rateRuleOf({ messagesPerSecond: rate, messageBurst: burst }) as RateRule);
          const admitted: number[] = [];
          for (const [dt, frames, back] of steps) {
            vi.advanceTimersByTime(dt);
            if (back) vi.setSystemTime(Date.now() - 3_600_000);
            for (let i = 0; i < frames; i++) if (bucket.take(text)) admitted.push(performance.now());
          }
          let excess = 0;
          for (let i = 0; i < admitted.length; i++)
            for (let j = i; j < admitted.length; j++) {
              const window = ((admitted[j] as number) - (admitted[i] as number)) / 1000;
              excess = Math.max(excess, j - i + 1 - (burst + rate * window));
            }
          expect(excess).toBeLessThanOrEqual(1e-6);
        },
      ),
    );
  });

  it("admits every frame of a client that keeps to its rate, and after a pause what it held back meanwhile, whatever the clock's fraction", () => {
    let now = 0;
    const clock = vi.spyOn(performance, "now").mockImplementation(() => now);
    const refused: string[] = [];
    for (const base of [0, 0.3, 12_345.678901, 1e6 + 0.123456789])
      for (let rate = 1; rate <= 50; rate++)
        for (const pausedMs of [100, 333, 1_000, 1_001, 7_777]) {
          now = base;
          const bucket = new TokenBucket(rateRuleOf({ messagesPerSecond: rate, messageBurst: 1 }) as RateRule);
          const gap = Math.ceil(1000 / rate);
          let taken = 0;
          for (let i = 0; i < 10; i++) {
            now += gap;
            if (bucket.take(text)) taken++;
          }
          bucket.hold();
          now += pausedMs;
          bucket.release();
          const held = Math.floor(pausedMs / gap);
          for (let i = 0; i < held; i++) if (bucket.take(text)) taken++;
          if (taken !== 10 + held) refused.push(`base ${base}, ${rate}/s, paused ${pausedMs} ms: ${taken} of ${10 + held}`);
        }
    clock.mockRestore();
    expect(refused).toEqual([]);
  });
});

describe("review: close() and an app whose fetch never answers", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("resolves once the upgrade timed out (503), without waiting for the fetch itself", async () => {
    const loops = createLoops(() => new Promise<Response>(() => {}), { upgradeTimeout: 1, onError: () => {}, canPing: true });
    const routed = loops.route(upgradeRequest());
    await vi.advanceTimersByTimeAsync(10);
    let closed = false;
    void loops.closeAll().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(((await routed) as Response).status).toBe(503);
    await vi.advanceTimersByTimeAsync(100);
    expect(closed).toBe(true);
  });
});

describe("review: a failure touches only its own socket", () => {
  it("a handler's thenable whose then throws closes its socket with 1011, not the runtime's I/O callback", async () => {
    let closes = 0;
    const socket = await connect<null>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (): [null] => [null],
        onMessage: (state: null, message: Message<never>) => {
          if (message.type !== "text") return continueConnection(state);
          return {
            // biome-ignore lint/suspicious/noThenProperty: a thenable whose then throws is the case
            then() {
              throw new Error("a broken thenable");
            },
          } as unknown as Promise<Action<null, never>>;
        },
        onClose: () => {
          closes++;
        },
        onError: () => {},
        idleTimeout: 0,
      }),
    );
    expect(() => socket.sendText("x")).not.toThrow();
    await socket.settled();
    expect(socket.closedByServer?.code).toBe(1011);
    expect(closes).toBe(1);
  });

  it("so does one from onInit or onClose: the loop still ends, onClose once", async () => {
    const broken = () =>
      ({
        // biome-ignore lint/suspicious/noThenProperty: a thenable whose then throws is the case
        then() {
          throw new Error("a broken thenable");
        },
      }) as never;
    const failedInit = await connect<null>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: broken,
        onMessage: (state: null) => continueConnection(state),
        onClose: () => {},
        onError: () => {},
        idleTimeout: 0,
      }),
    );
    await failedInit.settled();
    expect(failedInit.closedByServer?.code).toBe(1011);
    const errors: unknown[] = [];
    const failedClose = await connect<null>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (): [null] => [null],
        onMessage: (state: null) => continueConnection(state),
        onClose: broken,
        onError: (error) => errors.push(error),
        idleTimeout: 0,
      }),
    );
    expect(() => failedClose.close(1000)).not.toThrow();
    await failedClose.settled();
    expect(String(errors[0])).toMatch(/a broken thenable/);
  });
});
