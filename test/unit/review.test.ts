// Adversarial review of flow control, rate limits and stats (issue 18): each case failed before its fix.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { closeInBatches } from "../../src/adapters/drain.ts";
import type { Session } from "../../src/core/session.ts";
import { type Connection, continueConnection, type Message, sendText, upgradeWebSocket } from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

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
      Array.from({ length: 5 }, () => ({ closeWith: () => closedAt.push(Date.now() - start) }) as unknown as Session),
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
    const sessions = new Set<Session>();
    for (let i = 0; i < 5; i++) {
      const session = { closeWith: () => sessions.clear() } as unknown as Session;
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
