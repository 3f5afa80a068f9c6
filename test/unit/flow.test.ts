// Flow control and rate limits in memory (wsloop/testing): when reading pauses and resumes, what a
// paused connection's keepalive does, what a frame over the rate limit becomes, and the options' checks.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type Action,
  type Connection,
  continueConnection,
  type Message,
  type RateLimited,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";
import { gated, idleHandlers } from "./helpers.ts";

describe("flow control", () => {
  it("pauses reading once the queue weighs pauseReadingAt, and resumes only below resumeReadingAt", async () => {
    const { socket, handled, release } = await gated();
    // The first message is in the handler; the next ones queue at 259 bytes each.
    socket.sendText("a");
    for (let i = 0; i < 7; i++) socket.sendText("b");
    expect(socket.readingPaused).toBe(false); // 7 × 259 = 1813 < 2000
    socket.sendText("c");
    expect(socket.readingPaused).toBe(true); // 2072
    // Frames the runtime had read before the pause still arrive, and queue.
    socket.sendText("d");
    for (let left = 9; left > 4; left--) {
      await release();
      expect(socket.readingPaused).toBe(true); // left - 1 queued: 2072 … 1036
    }
    await release();
    expect(socket.readingPaused).toBe(false); // 3 × 259 = 777 < 1000
    while (handled.length < 10) await release();
    expect(handled).toEqual(["a", "b", "b", "b", "b", "b", "b", "b", "c", "d"]);
    expect(socket.closedByServer).toBeUndefined();
  });

  it("resumes reading when the loop ends, so that the closing handshake can complete", async () => {
    const { socket, release, waiting } = await gated();
    for (let i = 0; i < 10; i++) socket.sendText("x");
    expect(socket.readingPaused).toBe(true);
    socket.close(1000);
    expect(socket.readingPaused).toBe(false);
    while (waiting() > 0) await release();
    await socket.settled();
    expect(socket.closeCalled).toBe(true);
  });

  it("closes with 1008 at maxQueuedBytes all the same when frames keep coming (a runtime that cannot pause, or frames read before the pause)", async () => {
    const { socket, release, waiting } = await gated({ maxQueuedBytes: 3000, maxMessageSize: 100 });
    for (let i = 0; i < 13; i++) socket.sendText("x");
    expect(socket.closedByServer).toEqual({ code: 1008, reason: "Too many queued messages" });
    expect(socket.readingPaused).toBe(false);
    while (waiting() > 0) await release();
  });

  it("rejects a pauseReadingAt above maxQueuedBytes and a resumeReadingAt not below it", () => {
    const request = upgradeRequest();
    expect(() =>
      upgradeWebSocket(request, { ...idleHandlers, maxQueuedBytes: 1000, maxMessageSize: 100, pauseReadingAt: 2000 }),
    ).toThrow(RangeError);
    expect(() => upgradeWebSocket(request, { ...idleHandlers, pauseReadingAt: 1000, resumeReadingAt: 1000 })).toThrow(RangeError);
    expect(() => upgradeWebSocket(request, { ...idleHandlers, pauseReadingAt: 0 })).toThrow(RangeError);
    expect(() => upgradeWebSocket(request, { ...idleHandlers, resumeReadingAt: -1 })).toThrow(RangeError);
  });

  describe("with fake timers", () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("does not time out a connection as idle while its socket is not being read", async () => {
      const { socket, release, waiting } = await gated({ idleTimeout: 10 });
      for (let i = 0; i < 10; i++) socket.sendText("x");
      expect(socket.readingPaused).toBe(true);
      // The handler is stuck for a minute: the client's silence (pongs included) is the server's doing.
      await vi.advanceTimersByTimeAsync(60_000);
      expect(socket.pings).toBe(0);
      expect(socket.closedByServer).toBeUndefined();
      while (waiting() > 0) await release();
      expect(socket.readingPaused).toBe(false);
      // Reading again: a silent client is pinged and closed as before.
      await vi.advanceTimersByTimeAsync(8_000);
      expect(socket.pings).toBe(1);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(socket.closedByServer).toEqual({ code: 1001, reason: "Idle timeout" });
    });

    it("rate limit: a frame past the burst closes with 1008; the bucket refills at the rate", async () => {
      const notices: number[] = [];
      const socket = await connect<null>(
        upgradeWebSocket(upgradeRequest(), {
          dependencies: null,
          onInit: (): [null] => [null],
          onMessage: (state: null, message: Message<never>, connection: Connection) => {
            if (message.type === "text") sendText(connection, message.text);
            if (message.type === "closed") notices.push(message.code);
            return continueConnection(state);
          },
          onClose: () => {},
          idleTimeout: 0,
          rateLimit: { messagesPerSecond: 2, messageBurst: 3 },
        }),
      );
      for (const text of ["1", "2", "3"]) socket.sendText(text);
      await vi.advanceTimersByTimeAsync(500); // one frame's worth
      socket.sendText("4");
      socket.sendText("5");
      await socket.settled();
      expect(socket.texts()).toEqual(["1", "2", "3", "4"]);
      expect(socket.closedByServer).toEqual({ code: 1008, reason: "Rate limit exceeded" });
      expect(notices).toEqual([1008]);
    });

    it("rate limit in bytes: a frame is taken while the bucket is not empty, and a large one leaves it in debt", async () => {
      const socket = await connect<null>(
        upgradeWebSocket(upgradeRequest(), {
          dependencies: null,
          onInit: (): [null] => [null],
          onMessage: (state: null, message: Message<never>, connection: Connection) => {
            if (message.type === "text") sendText(connection, String(message.text.length));
            return continueConnection(state);
          },
          onClose: () => {},
          idleTimeout: 0,
          rateLimit: { bytesPerSecond: 1000, exceeded: "close" },
        }),
      );
      socket.sendText("x".repeat(3000)); // the full bucket (1000) takes it: 2000 in debt
      await vi.advanceTimersByTimeAsync(2_500); // +2500: 500 left
      socket.sendText("é".repeat(300)); // 600 bytes of UTF-8: -100
      socket.sendText("y");
      await socket.settled();
      expect(socket.texts()).toEqual(["3000", "300"]);
      expect(socket.closedByServer?.code).toBe(1008);
    });

    it('rate limit with exceeded: "message": the handler gets each frame over it as rate_limited, in its place', async () => {
      const seen: string[] = [];
      const onMessage = (state: null, message: Message<never, RateLimited>): Action<null, never> => {
        if (message.type === "rate_limited")
          seen.push(`limited:${message.message.type === "text" ? message.message.text : message.message.data.byteLength}`);
        else if (message.type === "text") seen.push(message.text);
        else if (message.type === "binary") seen.push(`bytes:${message.data.byteLength}`);
        return message.type === "text" && message.text === "stop" ? stopConnection() : continueConnection(state);
      };
      const socket = await connect<null>(
        upgradeWebSocket(upgradeRequest(), {
          dependencies: null,
          onInit: (): [null] => [null],
          onMessage,
          onClose: () => {},
          idleTimeout: 0,
          rateLimit: { messagesPerSecond: 1, messageBurst: 2, exceeded: "message" },
        }),
      );
      socket.sendText("a");
      socket.sendBinary(new Uint8Array(4));
      socket.sendText("b");
      socket.sendBinary(new Uint8Array(2));
      await vi.advanceTimersByTimeAsync(1_000);
      socket.sendText("c");
      await socket.settled();
      expect(seen).toEqual(["a", "bytes:4", "limited:b", "limited:2", "c"]);
      expect(socket.closedByServer).toBeUndefined();
    });
  });

  it('rateLimit: checks its numbers, and takes exceeded: "message" only for a handler that takes RateLimited', () => {
    const request = upgradeRequest();
    expect(() => upgradeWebSocket(request, { ...idleHandlers, rateLimit: {} })).toThrow(/messagesPerSecond or bytesPerSecond/);
    expect(() => upgradeWebSocket(request, { ...idleHandlers, rateLimit: { messagesPerSecond: 0 } })).toThrow(RangeError);
    expect(() => upgradeWebSocket(request, { ...idleHandlers, rateLimit: { messagesPerSecond: 5, messageBurst: 0.5 } })).toThrow(
      RangeError,
    );
    // @ts-expect-error: idleHandlers' onMessage takes Message<never>, without the rate_limited notice.
    upgradeWebSocket(request, { ...idleHandlers, rateLimit: { messagesPerSecond: 5, exceeded: "message" } });
    const takesNotices = (state: null, _message: Message<never, RateLimited>) => continueConnection(state);
    upgradeWebSocket(request, {
      ...idleHandlers,
      onMessage: takesNotices,
      rateLimit: { messagesPerSecond: 5, exceeded: "message" },
    });
  });
});
