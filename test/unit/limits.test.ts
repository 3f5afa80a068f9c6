import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MESSAGE_OVERHEAD } from "../../src/core/size.ts";
import {
  type Connection,
  continueConnection,
  type Message,
  sendText,
  type UpgradeOptions,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";
import { idleHandlers } from "./helpers.ts";

type Log = { closes: number; notices: number[] };

function open(options: Partial<UpgradeOptions<null, never, Log>> = {}, request = upgradeRequest()) {
  const log: Log = { closes: 0, notices: [] };
  let connection!: Connection;
  return connect<null>(
    upgradeWebSocket(request, {
      dependencies: log,
      onInit: (c: Connection): [null] => {
        connection = c;
        return [null];
      },
      onMessage: (s: null, m: Message<never>, _c, deps) => {
        if (m.type === "closed") deps.notices.push(m.code);
        return continueConnection(s);
      },
      onClose: (_s, deps) => {
        deps.closes++;
      },
      ...options,
    }),
  ).then((socket) => ({ socket, log, connection }));
}

describe("idleTimeout", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("pings a silent client after half the timeout and closes with 1001 when it does not answer", async () => {
    const { socket, log } = await open({ idleTimeout: 10 });
    await vi.advanceTimersByTimeAsync(4_000);
    expect(socket.pings).toBe(0);
    await vi.advanceTimersByTimeAsync(3_500);
    expect(socket.pings).toBe(1);
    expect(socket.closedByServer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(socket.closedByServer).toEqual({ code: 1001, reason: "Idle timeout" });
    expect(socket.pings).toBe(1);
    expect(log).toEqual({ closes: 1, notices: [1001] });
    // The client never finished the closing handshake: the connection is dropped after a grace period.
    expect(socket.terminated).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(socket.terminated).toBe(true);
  });

  it("keeps a client that answers pings connected, pinging it every half timeout", async () => {
    const { socket } = await open({ idleTimeout: 10 });
    for (let i = 0; i < 12; i++) {
      await vi.advanceTimersByTimeAsync(2_500);
      if (socket.pings > i / 2) socket.pong();
    }
    await vi.advanceTimersByTimeAsync(2_500);
    expect(socket.closedByServer).toBeUndefined();
    expect(socket.pings).toBeGreaterThanOrEqual(4);
    expect(socket.pings).toBeLessThanOrEqual(6);
  });

  it("counts every message as a sign of life", async () => {
    const { socket } = await open({ idleTimeout: 10 });
    for (let i = 0; i < 20; i++) {
      await vi.advanceTimersByTimeAsync(2_000);
      socket.sendText("still here");
    }
    expect(socket.pings).toBe(0);
    expect(socket.closedByServer).toBeUndefined();
  });

  it("is off with 0, and 120 s by default", async () => {
    const off = await open({ idleTimeout: 0 });
    const byDefault = await open();
    await vi.advanceTimersByTimeAsync(119_000);
    expect(byDefault.socket.closedByServer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(31_000);
    expect(byDefault.socket.closedByServer?.code).toBe(1001);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(off.socket.pings).toBe(0);
    expect(off.socket.closedByServer).toBeUndefined();
  });

  it("rejects a negative or non-finite timeout", () => {
    const handlers = idleHandlers;
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, idleTimeout: -1 })).toThrow(RangeError);
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, idleTimeout: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});

describe("slowConsumerLimit", () => {
  it("closes with 1008 once queued plus refused bytes pass the limit, and runs onClose once", async () => {
    const { socket, log, connection } = await open({ maxBufferedAmount: 100, slowConsumerLimit: 200 });
    socket.bufferedAmount = 150;
    expect(sendText(connection, "x".repeat(40))).toEqual({ ok: false, error: { type: "backpressure", bufferedAmount: 150 } });
    expect(socket.closedByServer).toBeUndefined();
    expect(sendText(connection, "x".repeat(20))).toEqual({ ok: false, error: { type: "closed" } });
    expect(socket.closedByServer).toEqual({ code: 1008, reason: "Slow consumer" });
    await socket.settled();
    expect(log).toEqual({ closes: 1, notices: [1008] });
    expect(sendText(connection, "x")).toEqual({ ok: false, error: { type: "closed" } });
  });

  it("forgets refused bytes once the client caught up", async () => {
    const { socket, connection } = await open({ maxBufferedAmount: 100, slowConsumerLimit: 200 });
    socket.bufferedAmount = 150;
    expect(sendText(connection, "x".repeat(45)).ok).toBe(false);
    socket.bufferedAmount = 0;
    expect(sendText(connection, "y").ok).toBe(true);
    socket.bufferedAmount = 150;
    expect(sendText(connection, "x".repeat(45)).ok).toBe(false);
    expect(socket.closedByServer).toBeUndefined();
  });

  it("must be at least maxBufferedAmount", () => {
    const handlers = idleHandlers;
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, maxBufferedAmount: 100, slowConsumerLimit: 99 })).toThrow(
      RangeError,
    );
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, maxBufferedAmount: 32 * 1024 * 1024 })).not.toThrow();
  });
});

describe("maxQueuedBytes", () => {
  it("closes with 1008 a client that outruns an async handler, after the queue passes the limit", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seen: string[] = [];
    const log: Log = { closes: 0, notices: [] };
    const socket = await connect<null>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: log,
        maxMessageSize: 64,
        // Each queued message weighs its bytes plus MESSAGE_OVERHEAD: room for exactly two of 50 bytes.
        maxQueuedBytes: 2 * (50 + MESSAGE_OVERHEAD),
        onInit: (): [null] => [null],
        onMessage: async (s: null, m: Message<never>, _c, deps) => {
          if (m.type === "closed") deps.notices.push(m.code);
          else if (m.type === "text") seen.push(m.text);
          await gate;
          return continueConnection(s);
        },
        onClose: (_s, deps) => {
          deps.closes++;
        },
      }),
    );
    socket.sendText("first"); // being handled: not queued
    socket.sendText("a".repeat(50));
    socket.sendText("b".repeat(50));
    expect(socket.closedByServer).toBeUndefined();
    socket.sendText("c");
    expect(socket.closedByServer).toEqual({ code: 1008, reason: "Too many queued messages" });
    socket.sendText("after the close");
    release();
    await socket.settled();
    // What was queued before the close is still handled, in order; nothing after it.
    expect(seen).toEqual(["first", "a".repeat(50), "b".repeat(50), "c"]);
    expect(log).toEqual({ closes: 1, notices: [1008] });
  });

  it("weighs a long text at its exact UTF-8 size and a short one at 3 bytes per character", async () => {
    // Two queued texts of `weight` bytes fill a queue of exactly their weight; one byte less closes
    // at the second. "é" is 2 UTF-8 bytes; a text of 16 units or fewer is weighed at its upper bound.
    const cases = [
      { queued: "é".repeat(40), weight: 80 },
      { queued: "a".repeat(16), weight: 48 },
    ];
    for (const { queued, weight } of cases) {
      for (const spare of [0, -1]) {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const socket = await connect<null>(
          upgradeWebSocket(upgradeRequest(), {
            dependencies: null,
            maxMessageSize: 100,
            maxQueuedBytes: 2 * (weight + MESSAGE_OVERHEAD) + spare,
            onInit: (): [null] => [null],
            onMessage: async (s: null) => {
              await gate;
              return continueConnection(s);
            },
            onClose: () => {},
          }),
        );
        socket.sendText("being handled");
        socket.sendText(queued);
        socket.sendText(queued);
        expect(socket.closedByServer?.code, `${queued} with ${spare}`).toBe(spare < 0 ? 1008 : undefined);
        release();
        await socket.settled();
      }
    }
  });

  it("is at least maxMessageSize", () => {
    const handlers = idleHandlers;
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, maxMessageSize: 100, maxQueuedBytes: 99 })).toThrow(
      RangeError,
    );
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, maxMessageSize: 64 * 1024 * 1024 })).not.toThrow();
  });
});

describe("allowedOrigins", () => {
  const handlers = {
    dependencies: null,
    onInit: (): [null] => [null],
    onMessage: (s: null) => continueConnection(s),
    onClose: () => {},
    allowedOrigins: ["https://example.com"],
  };

  it("answers 403 to a browser upgrade from another origin, before any socket exists", async () => {
    const response = upgradeWebSocket(
      upgradeRequest("http://localhost/", { headers: { origin: "https://evil.example" } }),
      handlers,
    );
    expect(response.status).toBe(403);
    await expect(connect(response)).rejects.toThrow(/403/);
  });

  it("accepts a listed origin (case-insensitively) and clients that send no Origin", async () => {
    await expect(
      connect(upgradeWebSocket(upgradeRequest("http://localhost/", { headers: { origin: "https://EXAMPLE.com" } }), handlers)),
    ).resolves.toBeDefined();
    await expect(connect(upgradeWebSocket(upgradeRequest(), handlers))).resolves.toBeDefined();
  });

  it("allows any origin when not set", async () => {
    const { allowedOrigins: _, ...anyOrigin } = handlers;
    await expect(
      connect(upgradeWebSocket(upgradeRequest("http://localhost/", { headers: { origin: "https://evil.example" } }), anyOrigin)),
    ).resolves.toBeDefined();
  });
});
