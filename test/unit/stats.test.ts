// Stats, its histogram and the connection caps, without a server: what each counts, and when.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConnectionCaps, clientKey } from "../../src/adapters/caps.ts";
import { createLoops } from "../../src/adapters/loops.ts";
import type { Transport } from "../../src/core/connection.ts";
import { BOUNDS, Histogram } from "../../src/core/histogram.ts";
import { Session } from "../../src/core/session.ts";
import { Stats } from "../../src/core/stats.ts";
import { type PendingUpgrade, takeUpgrade } from "../../src/core/upgrade.ts";
import {
  type Connection,
  continueConnection,
  type Message,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";
import { upgradeRequest } from "../../src/testing.ts";
import { idleHandlers } from "./helpers.ts";

function pending(
  onMessage = (state: null, message: Message<never>, connection: Connection) => {
    if (message.type === "text") {
      if (message.text === "stop") return stopConnection({ code: 4000 });
      sendText(connection, message.text);
    }
    return continueConnection(state);
  },
): PendingUpgrade {
  const request = upgradeRequest();
  const accepted = takeUpgrade(
    request,
    upgradeWebSocket(request, { dependencies: null, idleTimeout: 0, onInit: (): [null] => [null], onMessage, onClose: () => {} }),
  );
  if (!accepted) throw new Error("no upgrade");
  return accepted;
}

function serverSession(stats: Stats, transport: Partial<Transport> = {}) {
  const session = new Session(pending(), {
    send: () => true,
    close: () => {},
    terminate: () => {},
    bufferedAmount: 0,
    stats,
    ...transport,
  });
  session.start();
  return session;
}

describe("Histogram", () => {
  it("interpolates percentiles within its buckets and keeps cumulative counts", () => {
    const histogram = new Histogram();
    for (let i = 1; i <= 100; i++) histogram.record(i / 10, 1000); // 0.1 … 10 ms
    expect(histogram.count).toBe(100);
    expect(histogram.sum).toBeCloseTo(505, 6);
    // Buckets are at most 1.5× apart: a percentile is off by less than that.
    expect(histogram.recent(0.5, 1000)).toBeGreaterThan(5 / 1.5);
    expect(histogram.recent(0.5, 1000)).toBeLessThan(5 * 1.5);
    expect(histogram.recent(0.99, 1000)).toBeGreaterThan(9.9 / 1.5);
    expect(histogram.recent(0.99, 1000)).toBeLessThanOrEqual(10);
    const buckets = histogram.cumulative();
    expect(buckets).toHaveLength(BOUNDS.length + 1);
    expect(buckets.at(-1)).toEqual({ le: Infinity, count: 100 });
    expect(buckets.find((bucket) => bucket.le === 1)?.count).toBe(10);
  });

  it("forgets what is older than two minutes for the percentiles, not for the cumulative counts", () => {
    const histogram = new Histogram();
    histogram.record(50, 1_000);
    expect(histogram.recent(0.5, 61_000)).toBeGreaterThan(30); // the previous window still counts
    expect(histogram.recent(0.5, 200_000)).toBe(0);
    histogram.record(0.01, 200_000);
    expect(histogram.recent(0.99, 200_000)).toBeLessThan(0.02);
    expect(histogram.count).toBe(2);
  });
});

describe("Stats", () => {
  it("counts a close once: the server's code when it closed first, else the client's", async () => {
    const stats = new Stats();
    const first = serverSession(stats);
    await first.whenIdle();
    first.text("hi");
    first.text("stop"); // stopConnection({ code: 4000 }): the server closes first
    first.closed(4000, ""); // the client's echo is not counted again
    const second = serverSession(stats);
    await second.whenIdle();
    second.closed(1006, ""); // the client vanished
    await Promise.all([first.finished, second.finished]);
    const snapshot = stats.snapshot([], 0, 2);
    expect(snapshot.closes).toEqual({ 4000: 1, 1006: 1 });
    expect(snapshot.peakConnections).toBe(2);
  });

  it("counts backpressure, slow consumers and queue overflows, and what is queued and paused now", async () => {
    const stats = new Stats();
    let buffered = 0;
    const session = new Session(
      pending((state, message, connection) => {
        if (message.type === "text") for (let i = 0; i < 3; i++) sendText(connection, "x".repeat(1000));
        return continueConnection(state);
      }),
      {
        send: () => true,
        close: () => {},
        terminate: () => {},
        get bufferedAmount() {
          return buffered;
        },
        stats,
      },
    );
    session.start();
    await session.whenIdle();
    buffered = 5 * 1024 * 1024; // past maxBufferedAmount (4 MiB)
    session.text("go");
    await session.whenIdle();
    const snapshot = stats.snapshot([session], 1, 1);
    expect(snapshot.backpressure).toBe(3);
    expect(snapshot.slowConsumers).toBe(0);
    buffered = 17 * 1024 * 1024; // past slowConsumerLimit (16 MiB)
    session.text("again");
    await session.finished;
    expect(stats.snapshot([], 0, 1).slowConsumers).toBe(1);
    expect(stats.snapshot([], 0, 1).closes).toEqual({ 1008: 1 });
  });

  it("times every handler call while they are rare, fewer under load", async () => {
    const stats = new Stats();
    const session = serverSession(stats);
    await session.whenIdle();
    for (let i = 0; i < 5; i++) {
      session.text("slow");
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    expect(stats.handlerTime.count).toBe(5);
    for (let i = 0; i < 100_000; i++) session.text("fast");
    const afterBurst = stats.handlerTime.count;
    expect(afterBurst).toBeLessThan(5 + 1000);
    // After the burst, sampling is sparse until the server's once-a-second resample.
    stats.resample();
    session.text("quiet");
    expect(stats.handlerTime.count).toBe(afterBurst + 1);
  });
});

describe("ConnectionCaps", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("holds a place per address from the check until the loop finished or the upgrade was refused", () => {
    const caps = new ConnectionCaps(10, 2);
    expect(caps.admit("a", 0)).toBeUndefined();
    expect(caps.admit("a", 1)).toBeUndefined();
    const refused = caps.admit("a", 2);
    expect(refused?.status).toBe(429);
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    caps.cancel("a"); // the app refused one
    expect(caps.admit("a", 1)).toBeUndefined();
    expect(caps.admit("b", 2)).toBeUndefined();
  });

  it("gives back the place of an accepted upgrade that never opens, so vanishing clients cannot fill maxConnections or an address's share", async () => {
    // Deno and Bun tell nobody when a client vanishes between the 101 and the socket's open: the
    // loops let go of such a handoff after 2 s. It used to be let go only when maxConnections was
    // reached, so with maxConnectionsPerIp alone an address lost its places for good, and every
    // vanished upgrade stayed in memory.
    const app = (request: Request) => upgradeWebSocket(request, idleHandlers);
    for (const limits of [{ maxConnections: 2 }, { maxConnectionsPerIp: 2 }]) {
      const loops = createLoops(app, { ...limits, onError: () => {}, canPing: true });
      const route = async (address: string) => {
        const outcome = await loops.route(upgradeRequest(), address);
        return outcome instanceof Response ? outcome.status : 101;
      };
      expect([await route("a"), await route("a")]).toEqual([101, 101]);
      expect(await route("a")).toBe("maxConnections" in limits ? 503 : 429);
      vi.advanceTimersByTime(2_001);
      expect([await route("a"), await route("a")]).toEqual([101, 101]);
      vi.advanceTimersByTime(2_001);
      await loops.closeAll();
    }
  });

  it("answers upgrades during shutdown with 503 and Retry-After", async () => {
    const loops = createLoops(() => new Response(null, { status: 404 }), { onError: () => {}, canPing: true });
    const closing = loops.closeAll();
    const refused = (await loops.route(upgradeRequest())) as Response;
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await closing;
  });

  it("counts an IPv6 client by its /56 and an IPv4-mapped one as its IPv4 address, for maxConnectionsPerIp", async () => {
    // Without it, a client with a /64 could open maxConnectionsPerIp from each of 2^64 addresses.
    expect(clientKey("2001:db8:aa:bb01::1")).toBe(clientKey("2001:db8:aa:bbff:1234::9"));
    expect(clientKey("2001:db8:aa:bb01::1")).not.toBe(clientKey("2001:db8:aa:cc01::1"));
    expect(clientKey("::ffff:10.0.0.1")).toBe("10.0.0.1");
    expect(clientKey("10.0.0.1")).toBe("10.0.0.1");
    expect(clientKey("not an address")).toBe("not an address");
    const app = (request: Request) => upgradeWebSocket(request, idleHandlers);
    const loops = createLoops(app, { maxConnectionsPerIp: 1, onError: () => {}, canPing: true });
    const status = async (address: string) => {
      const outcome = await loops.route(upgradeRequest(), address);
      return outcome instanceof Response ? outcome.status : 101;
    };
    expect(await status("2001:db8:aa:bb01::1")).toBe(101);
    expect(await status("2001:db8:aa:bb02::7")).toBe(429);
    expect(await status("::ffff:10.0.0.1")).toBe(101);
    expect(await status("10.0.0.1")).toBe(429);
    vi.advanceTimersByTime(2_001);
    await loops.closeAll();
  });
});
