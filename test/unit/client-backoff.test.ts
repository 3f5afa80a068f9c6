// wsloop/client's reconnect schedule, with a fake socket and fake timers: which close codes
// reconnect and how soon, the jitter's bounds, the retry count, giving up.
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { reconnectDelay } from "../../src/client/backoff.ts";
import { type CloseInfo, connect, type ReconnectDecision, reconnectDecision } from "../../src/client.ts";
import { fakeSockets } from "./client-fake.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const base = 100;
const cap = 1000;

function start(options: { reconnect?: (close: { code: number }) => ReconnectDecision | undefined; maxAttempts?: number } = {}) {
  const sockets = fakeSockets();
  const closes: CloseInfo[] = [];
  const client = connect("ws://test/", {
    WebSocket: sockets.WebSocket,
    dependencies: null,
    backoff: { base, cap, minUptime: 5000, maxAttempts: options.maxAttempts ?? Number.POSITIVE_INFINITY },
    reconnect: options.reconnect,
    onInit: () => null,
    onMessage: (state) => state,
    onClose: (state, close) => {
      closes.push(close);
      return state;
    },
  });
  return { sockets, client, closes };
}

/** Ends the newest socket with `code` `times` times (never opened), and returns the delays announced. */
function failRepeatedly(run: ReturnType<typeof start>, code: number, times: number): (number | undefined)[] {
  for (let i = 0; i < times; i++) {
    const before = run.sockets.all.length;
    run.sockets.last().end(code);
    const delay = run.closes.at(-1)?.reconnectIn;
    if (delay === undefined) break;
    // The next attempt starts exactly after the delay announced, not before.
    if (delay >= 1) {
      vi.advanceTimersByTime(Math.ceil(delay) - 1);
      expect(run.sockets.all.length).toBe(before);
    }
    vi.advanceTimersByTime(1);
    expect(run.sockets.all.length).toBe(before + 1);
  }
  return run.closes.map((close) => close.reconnectIn);
}

describe("the default decision by close code", () => {
  it.each([
    [1000, "stop"],
    [1001, "reconnect"],
    [1005, "reconnect"],
    [1006, "reconnect"],
    [1009, "reconnect"],
    [1012, "reconnect"],
    [1008, "backoff-hard"],
    [1011, "backoff"],
    [1002, "backoff"],
    [1007, "backoff"],
    [1013, "backoff"],
    [3000, "stop"],
    [4000, "stop"],
    [4999, "stop"],
  ] as const)("%i → %s", (code, decision) => {
    expect(reconnectDecision(code)).toBe(decision);
  });
});

describe("the delay's jitter stays within its window", () => {
  it("for every decision, retry count and random draw", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<ReconnectDecision>("reconnect", "backoff", "backoff-hard"),
        fc.nat(80),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (decision, retry, random) => {
          const delay = reconnectDelay(decision, retry, base, cap, random);
          const window = Math.min(cap, base * 2 ** (decision === "backoff" ? retry + 3 : retry));
          if (decision === "backoff-hard") {
            expect(delay).toBeGreaterThanOrEqual(cap / 2);
            expect(delay).toBeLessThanOrEqual(cap);
          } else {
            expect(delay).toBeGreaterThanOrEqual(0);
            // At the top only by rounding: random < 1.
            expect(delay).toBeLessThanOrEqual(window);
          }
        },
      ),
    );
  });

  it("uses the whole window: full jitter draws near 0 and near the top", () => {
    expect(reconnectDelay("reconnect", 3, base, cap, 0)).toBe(0);
    expect(reconnectDelay("reconnect", 3, base, cap, 0.999)).toBeCloseTo(799.2);
    expect(reconnectDelay("backoff-hard", 0, base, cap, 0)).toBe(cap / 2);
    expect(reconnectDelay("backoff-hard", 0, base, cap, 1 - 2 ** -53)).toBeLessThanOrEqual(cap);
  });
});

describe("reconnecting, per close code (random fixed at 0.5)", () => {
  beforeEach(() => {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
  });

  it("1006 (dropped, or never connected): half of base·2^n, up to the cap", () => {
    const delays = failRepeatedly(start(), 1006, 6);
    expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it("1001 (server going away) and 1009 the same way", () => {
    expect(failRepeatedly(start(), 1001, 3)).toEqual([50, 100, 200]);
    expect(failRepeatedly(start(), 1009, 3)).toEqual([50, 100, 200]);
  });

  it("1011 (server error): backs off, a window 8 times larger", () => {
    expect(failRepeatedly(start(), 1011, 3)).toEqual([400, 500, 500]);
  });

  it("1008 (policy): backs off hard, between half the cap and the cap from the first retry", () => {
    expect(failRepeatedly(start(), 1008, 3)).toEqual([750, 750, 750]);
  });

  it.each([1000, 4000, 3001])("%i: stops, with one final onClose and no new socket", async (code) => {
    const run = start();
    run.sockets.last().accept();
    run.sockets.last().end(code, "bye");
    vi.advanceTimersByTime(60_000);
    expect(run.sockets.all).toHaveLength(1);
    expect(run.closes).toEqual([{ code, reason: "bye", opened: true, reconnectIn: undefined, final: true, unsent: 0 }]);
    expect(run.client.status).toBe("closed");
    expect(await run.client.closed).toEqual(run.closes[0]);
  });

  it("4000-4999 ask the app's hook; undefined keeps the default", () => {
    const asked: number[] = [];
    const run = start({
      reconnect: (close) => {
        asked.push(close.code);
        return close.code === 4429 ? "backoff-hard" : undefined;
      },
    });
    expect(failRepeatedly(run, 4429, 2)).toEqual([750, 750]);
    expect(failRepeatedly(run, 1006, 1)).toEqual([750, 750, 200]);
    run.sockets.last().end(4001);
    expect(run.closes.at(-1)).toMatchObject({ code: 4001, final: true });
    expect(asked).toEqual([4429, 4429, 1006, 4001]);
  });

  it("a connection that stayed open minUptime starts the count again; a shorter one does not", () => {
    const run = start();
    failRepeatedly(run, 1006, 3); // 50, 100, 200: the 4th socket is opening
    run.sockets.last().accept();
    vi.advanceTimersByTime(4999);
    run.sockets.last().end(1001);
    expect(run.closes.at(-1)?.reconnectIn).toBe(400);
    vi.advanceTimersByTime(400);
    run.sockets.last().accept();
    vi.advanceTimersByTime(5000);
    run.sockets.last().end(1001);
    expect(run.closes.at(-1)?.reconnectIn).toBe(50);
  });

  it("gives up after maxAttempts retries in a row: the last close is final", () => {
    const run = start({ maxAttempts: 3 });
    failRepeatedly(run, 1006, 3);
    run.sockets.last().end(1006);
    expect(run.closes.map((close) => close.final)).toEqual([false, false, false, true]);
    vi.advanceTimersByTime(60_000);
    expect(run.sockets.all).toHaveLength(4);
  });

  it("1009: the frame that caused it is not sent again; what was queued after it goes out", () => {
    const run = start();
    run.sockets.last().accept();
    expect(run.client.sendText("x".repeat(100))).toEqual({ ok: true, value: "sent" });
    run.sockets.last().end(1009, "Message too big");
    expect(run.client.sendText("small")).toEqual({ ok: true, value: "queued" });
    vi.advanceTimersByTime(50);
    run.sockets.last().accept();
    expect(run.sockets.last().sent).toEqual(["small"]);
  });

  it("reconnectNow skips the wait", () => {
    const run = start();
    run.sockets.last().end(1011);
    expect(run.client.status).toBe("waiting");
    run.client.reconnectNow();
    expect(run.sockets.all).toHaveLength(2);
    expect(run.client.status).toBe("connecting");
    vi.advanceTimersByTime(1000);
    expect(run.sockets.all).toHaveLength(2);
  });
});
