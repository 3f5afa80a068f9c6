// wsloop/client's outgoing side: the queue while disconnected (its limits and policies), the
// resume hook's place before it, the size limit, sends after the end.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { utf8Length } from "../../src/client/outbox.ts";
import { type CloseInfo, connect, type QueueOptions } from "../../src/client.ts";
import { fakeSockets } from "./client-fake.ts";

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, "random").mockReturnValue(0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function start(options: { queue?: QueueOptions | false; resume?: boolean; maxMessageSize?: number } = {}, log: string[] = []) {
  const sockets = fakeSockets();
  const closes: CloseInfo[] = [];
  const client = connect("ws://test/", {
    WebSocket: sockets.WebSocket,
    dependencies: null,
    queue: options.queue,
    maxMessageSize: options.maxMessageSize,
    onInit: () => 0,
    resume: options.resume
      ? (opened, client) => {
          log.push("resume");
          client.sendText(`resume after ${opened}`);
        }
      : undefined,
    onOpen: (opened) => {
      log.push("onOpen");
      return opened + 1;
    },
    onMessage: (state) => state,
    onClose: (state, close) => {
      closes.push(close);
      return state;
    },
  });
  return { sockets, client, closes, log };
}

describe("the queue while disconnected", () => {
  it("holds what is sent before the first connection, then sends it in order", () => {
    const { sockets, client } = start();
    expect(client.sendText("a")).toEqual({ ok: true, value: "queued" });
    expect(client.sendBinary(new Uint8Array([1, 2]))).toEqual({ ok: true, value: "queued" });
    expect(client.sendJson({ n: 3 })).toEqual({ ok: true, value: "queued" });
    expect(client.queued).toBe(3);
    sockets.last().accept();
    expect(sockets.last().sent).toEqual(["a", new Uint8Array([1, 2]), '{"n":3}']);
    expect(client.queued).toBe(0);
    expect(client.sendText("d")).toEqual({ ok: true, value: "sent" });
  });

  it("sends what the resume hook sends first, then the queue, then runs onOpen", () => {
    const log: string[] = [];
    const { sockets, client } = start({ resume: true }, log);
    client.sendText("queued 1");
    sockets.last().accept();
    expect(sockets.last().sent).toEqual(["resume after 0", "queued 1"]);
    sockets.last().end(1006);
    client.sendText("queued 2");
    vi.advanceTimersByTime(1);
    sockets.last().accept();
    // onOpen returned 1 the first time: the resume hook saw it.
    expect(sockets.last().sent).toEqual(["resume after 1", "queued 2"]);
    expect(log).toEqual(["resume", "onOpen", "resume", "onOpen"]);
  });

  it("holds 100 messages and 1 MiB by default", () => {
    const { client } = start();
    for (let i = 0; i < 100; i++) expect(client.sendText(String(i)).ok).toBe(true);
    expect(client.sendText("one more")).toMatchObject({ ok: false, error: { type: "queue_full", messages: 100 } });
    const big = start().client;
    expect(big.sendBinary(new Uint8Array(1024 * 1024))).toEqual({ ok: true, value: "queued" });
    expect(big.sendText("x")).toMatchObject({ ok: false, error: { type: "queue_full", bytes: 1024 * 1024 } });
    expect(big.sendBinary(new Uint8Array(1024 * 1024 + 1))).toMatchObject({ ok: false, error: { type: "too_large" } });
  });

  it("refuses past maxMessages with queue_full (overflow reject), keeping the first ones", () => {
    const { sockets, client } = start({ queue: { maxMessages: 3 } });
    for (const text of ["1", "2", "3"]) expect(client.sendText(text).ok).toBe(true);
    expect(client.sendText("4")).toEqual({ ok: false, error: { type: "queue_full", messages: 3, bytes: 3 } });
    sockets.last().accept();
    expect(sockets.last().sent).toEqual(["1", "2", "3"]);
  });

  it("refuses past maxBytes, counting UTF-8 bytes", () => {
    const { client } = start({ queue: { maxBytes: 10 } });
    expect(client.sendText("ééé").ok).toBe(true); // 6 bytes
    expect(client.sendText("abcd").ok).toBe(true); // 10
    expect(client.sendText("x")).toEqual({ ok: false, error: { type: "queue_full", messages: 2, bytes: 10 } });
    expect(client.sendText("x".repeat(11))).toEqual({ ok: false, error: { type: "too_large", size: 11, limit: 10 } });
  });

  it("drops the oldest to make room with overflow drop-oldest", () => {
    const { sockets, client } = start({ queue: { maxMessages: 2, maxBytes: 5, overflow: "drop-oldest" } });
    for (const text of ["1", "2", "3", "4"]) expect(client.sendText(text)).toEqual({ ok: true, value: "queued" });
    expect(client.sendText("abcd").ok).toBe(true); // 1 + 4 bytes: "3" goes, "4" stays
    sockets.last().accept();
    expect(sockets.last().sent).toEqual(["4", "abcd"]);
  });

  it("with queue: false, answers offline at once while not connected", () => {
    const { sockets, client } = start({ queue: false });
    expect(client.sendText("a")).toEqual({ ok: false, error: { type: "offline" } });
    sockets.last().accept();
    expect(client.sendText("b")).toEqual({ ok: true, value: "sent" });
    sockets.last().end(1006);
    expect(client.sendText("c")).toEqual({ ok: false, error: { type: "offline" } });
    expect(client.queued).toBe(0);
  });

  it("queues while the socket is closing (the server's close frame came, the close event not yet)", () => {
    const { sockets, client } = start();
    sockets.last().accept();
    sockets.last().closing();
    expect(client.sendText("late")).toEqual({ ok: true, value: "queued" });
    sockets.last().end(1001);
    vi.advanceTimersByTime(1);
    sockets.last().accept();
    expect(sockets.last().sent).toEqual(["late"]);
  });

  it("keeps the order when a send arrives while older messages still wait", () => {
    const { sockets, client } = start();
    sockets.last().accept();
    sockets.last().closing();
    client.sendText("1");
    sockets.last().end(1006);
    vi.advanceTimersByTime(1);
    const next = sockets.last();
    // The socket opens, but onopen has not run yet: "2" must not overtake "1".
    next.readyState = 1;
    expect(client.sendText("2")).toEqual({ ok: true, value: "queued" });
    next.onopen?.();
    expect(next.sent).toEqual(["1", "2"]);
  });

  it("refuses a message above maxMessageSize whether connected or not", () => {
    const { sockets, client } = start({ maxMessageSize: 4 });
    expect(client.sendText("12345")).toEqual({ ok: false, error: { type: "too_large", size: 5, limit: 4 } });
    sockets.last().accept();
    expect(client.sendBinary(new Uint8Array(5))).toEqual({ ok: false, error: { type: "too_large", size: 5, limit: 4 } });
    expect(sockets.last().sent).toEqual([]);
  });

  it("after close(): sends answer closed, and the final onClose counts what was dropped", async () => {
    const { sockets, client, closes } = start();
    client.sendText("a");
    client.sendText("b");
    client.close(4000, "leaving");
    expect(client.sendText("c")).toEqual({ ok: false, error: { type: "closed" } });
    expect(sockets.last().closedWith).toEqual({ code: 4000, reason: "leaving" });
    expect(closes).toEqual([{ code: 4000, reason: "leaving", opened: false, reconnectIn: undefined, final: true, unsent: 2 }]);
    expect((await client.closed).unsent).toBe(2);
  });
});

describe("utf8Length", () => {
  it.each(["", "abc", "é", "€", "你好", "🚀", "a\u{1F468}\u200D\u{1F469}", "\uD800", "x\uDC00y", "\uD800\uD800\uDC00"])(
    "%j as TextEncoder counts it",
    (text) => {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
    },
  );
});
