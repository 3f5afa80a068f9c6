// wsloop/client's loop: state through the handlers, one event at a time in order, an onClose per
// attempt and exactly one final one, handler failures; the heartbeat and the connect timeout;
// typed messages both ways with Standard Schema.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { type ClientMessage, type CloseInfo, connect, type StandardSchemaV1 } from "../../src/client.ts";
import { fakeSockets } from "./client-fake.ts";

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, "random").mockReturnValue(0.5);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const tick = () => vi.advanceTimersByTimeAsync(0);

describe("the loop", () => {
  it("threads the state through onInit, onOpen, onMessage and onClose, one event at a time, in order", async () => {
    const sockets = fakeSockets();
    const seen: string[] = [];
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: { prefix: ">" },
      onInit: (_client, deps) => `${deps.prefix}init`,
      onOpen: (state) => `${state} open`,
      // Every other handler is async, with a macrotask wait: later events must wait for it.
      onMessage: async (state, message, _client, deps) => {
        seen.push(state);
        if (message.type === "text" && Number(message.text) % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        return `${deps.prefix}${message.type === "text" ? message.text : "?"}`;
      },
      onClose: async (state, close) => {
        seen.push(`${state} closed ${close.code} final=${close.final}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return `${state}!`;
      },
    });
    const socket = sockets.last();
    socket.accept();
    for (const text of ["0", "1", "2", "3"]) socket.receive(text);
    socket.end(1006);
    vi.advanceTimersByTime(250);
    sockets.last().accept();
    sockets.last().receive("4");
    client.close();
    await vi.runAllTimersAsync();
    expect(seen).toEqual([">init open", ">0", ">1", ">2", ">3 closed 1006 final=false", ">3! open", ">4 closed 1000 final=true"]);
    expect((await client.closed).final).toBe(true);
  });

  it("calls onClose once per attempt, opened or not, and exactly one final, with nothing after it", async () => {
    const sockets = fakeSockets();
    const closes: CloseInfo[] = [];
    let messagesAfterFinal = 0;
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      onInit: () => null,
      onMessage: (state) => {
        if (closes.some((close) => close.final)) messagesAfterFinal++;
        return state;
      },
      onClose: (state, close) => {
        closes.push(close);
        return state;
      },
    });
    sockets.last().end(1006); // never opened
    vi.advanceTimersByTime(250);
    sockets.last().accept();
    sockets.last().end(1001); // opened, but not for minUptime: the second retry's window
    vi.advanceTimersByTime(500);
    const last = sockets.last();
    last.accept();
    client.close();
    client.close();
    last.receive("late");
    last.end(1000);
    await vi.runAllTimersAsync();
    expect(closes.map((close) => [close.code, close.opened, close.final])).toEqual([
      [1006, false, false],
      [1001, true, false],
      [1000, true, true],
    ]);
    expect(messagesAfterFinal).toBe(0);
    expect(sockets.all).toHaveLength(3);
  });

  it("a handler that throws: onError gets it, the client ends (1011) with the last good state, queued events dropped", async () => {
    const sockets = fakeSockets();
    const errors: unknown[] = [];
    const finals: [string[], CloseInfo][] = [];
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      onError: (error) => errors.push(error),
      onInit: () => [] as string[],
      onMessage: (state, message) => {
        if (message.type === "text" && message.text === "boom") throw new Error("boom");
        return message.type === "text" ? [...state, message.text] : state;
      },
      onClose: (state, close) => {
        finals.push([state, close]);
        return state;
      },
    });
    const socket = sockets.last();
    socket.accept();
    for (const text of ["a", "boom", "b"]) socket.receive(text);
    await tick();
    expect(errors).toEqual([new Error("boom")]);
    expect(finals).toEqual([
      [["a"], { code: 1011, reason: "handler error", opened: true, reconnectIn: undefined, final: true, unsent: 0 }],
    ]);
    expect(socket.closedWith).toEqual({ code: 1000, reason: "handler error" });
    expect(client.status).toBe("closed");
    vi.advanceTimersByTime(60_000);
    expect(sockets.all).toHaveLength(1);
  });

  it("a rejected async handler ends the client the same way", async () => {
    const sockets = fakeSockets();
    const errors: unknown[] = [];
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      onError: (error) => errors.push(error),
      onInit: () => 0,
      onOpen: () => Promise.reject(new Error("nope")),
      onMessage: (state) => state,
    });
    sockets.last().accept();
    expect((await client.closed).code).toBe(1011);
    expect(errors).toEqual([new Error("nope")]);
  });

  it("passes the url function the current state before each attempt, and offers the protocols", () => {
    const sockets = fakeSockets();
    connect((seen: number) => `ws://test/feed?after=${seen}`, {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      protocols: ["chat.v1"],
      onInit: () => 0,
      onMessage: (_seen, message) => (message.type === "text" ? Number(message.text) : 0),
    });
    sockets.last().accept();
    sockets.last().receive("41");
    sockets.last().end(1006);
    vi.advanceTimersByTime(250);
    expect(sockets.all.map((socket) => socket.url)).toEqual(["ws://test/feed?after=0", "ws://test/feed?after=41"]);
    expect(sockets.last().protocols).toEqual(["chat.v1"]);
    expect(sockets.last().binaryType).toBe("arraybuffer");
  });

  it("throws a TypeError naming the fix when there is no WebSocket", () => {
    vi.stubGlobal("WebSocket", undefined);
    try {
      expect(() => connect("ws://test/", { dependencies: null, onInit: () => null, onMessage: (state) => state })).toThrow(
        /no global WebSocket.*options\.WebSocket/,
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("refuses close codes a browser would refuse", () => {
    const sockets = fakeSockets();
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      onInit: () => null,
      onMessage: (s) => s,
    });
    expect(() => client.close(1001)).toThrow(RangeError);
    expect(client.status).toBe("connecting");
  });
});

describe("heartbeat and connect timeout", () => {
  function start(heartbeat?: { timeout: number; ping?: string }, connectTimeout?: number) {
    const sockets = fakeSockets();
    const closes: CloseInfo[] = [];
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      heartbeat,
      connectTimeout,
      onInit: () => null,
      onMessage: (state) => state,
      onClose: (state, close) => {
        closes.push(close);
        return state;
      },
    });
    return { sockets, client, closes };
  }

  it("pings after half the timeout in silence, drops the connection at the full timeout and replaces it", () => {
    const { sockets, closes } = start({ timeout: 1000, ping: "ping" });
    const socket = sockets.last();
    socket.accept();
    vi.advanceTimersByTime(499);
    expect(socket.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(socket.sent).toEqual(["ping"]);
    vi.advanceTimersByTime(499);
    expect(closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(socket.closedWith).toBeDefined();
    expect(closes).toEqual([
      { code: 1006, reason: "heartbeat timeout", opened: true, reconnectIn: 250, final: false, unsent: 0 },
    ]);
    // The dead socket's own close event, if it ever comes, changes nothing.
    socket.end(1006);
    expect(closes).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(sockets.all).toHaveLength(2);
  });

  it("any frame from the server counts: a connection that hears something stays, unpinged", () => {
    const { sockets, closes } = start({ timeout: 1000, ping: "ping" });
    const socket = sockets.last();
    socket.accept();
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(400);
      socket.receive("news");
    }
    expect(socket.sent).toEqual([]);
    expect(closes).toEqual([]);
    // A pong after the ping saves it too.
    vi.advanceTimersByTime(600);
    expect(socket.sent).toEqual(["ping"]);
    socket.receive("pong");
    vi.advanceTimersByTime(900);
    expect(closes).toEqual([]);
  });

  it("without ping, only watches the silence", () => {
    const { sockets, closes } = start({ timeout: 1000 });
    sockets.last().accept();
    vi.advanceTimersByTime(1000);
    expect(sockets.last().sent).toEqual([]);
    expect(closes.map((close) => close.reason)).toEqual(["heartbeat timeout"]);
  });

  it("gives up on an attempt that does not open within connectTimeout", () => {
    const { sockets, closes } = start(undefined, 2000);
    vi.advanceTimersByTime(1999);
    expect(closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sockets.all[0]?.closedWith).toBeDefined();
    expect(closes).toEqual([{ code: 1006, reason: "connect timeout", opened: false, reconnectIn: 250, final: false, unsent: 0 }]);
  });
});

describe("typed messages", () => {
  const Said = z.object({ type: z.literal("said"), user: z.string(), text: z.string() });
  const Say = z.object({ type: z.literal("say"), text: z.string().max(10) });

  function start<In>(receive?: StandardSchemaV1<unknown, In>) {
    const sockets = fakeSockets();
    const messages: ClientMessage<In>[] = [];
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      receive,
      send: Say,
      onInit: () => null,
      onMessage: (state, message) => {
        messages.push(message);
        return state;
      },
    });
    sockets.last().accept();
    return { socket: sockets.last(), client, messages };
  }

  it("with a receive schema, text frames arrive as json, or invalid with the syntax error or the schema's issues", async () => {
    const { socket, messages } = start(Said);
    socket.receive(JSON.stringify({ type: "said", user: "Ann", text: "hi" }));
    socket.receive("{not json");
    socket.receive(JSON.stringify({ type: "said", user: 3 }));
    socket.receive(new Uint8Array([1, 2]).buffer);
    await tick();
    expect(messages[0]).toEqual({ type: "json", value: { type: "said", user: "Ann", text: "hi" } });
    expect(messages[1]).toMatchObject({ type: "invalid", text: "{not json", error: { type: "syntax" } });
    const invalid = messages[2];
    expect(invalid?.type === "invalid" && invalid.error.type === "schema" && invalid.error.issues.map((i) => i.path)).toEqual([
      ["user"],
      ["text"],
    ]);
    expect(messages[3]).toEqual({ type: "binary", data: new Uint8Array([1, 2]) });
  });

  it("without one, text frames arrive as text; binary from a Buffer-like view keeps its bytes", () => {
    const { socket, messages } = start();
    socket.receive("plain");
    const buffer = new Uint8Array([9, 1, 2, 3]).subarray(1);
    socket.receive(buffer);
    expect(messages).toEqual([
      { type: "text", text: "plain" },
      { type: "binary", data: new Uint8Array([1, 2, 3]) },
    ]);
  });

  it("an asynchronous schema keeps the order of messages", async () => {
    const delays = [10, 7, 4]; // the first message is the slowest to validate
    const Slow: StandardSchemaV1<unknown, number> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: async (value) => {
          await new Promise((resolve) => setTimeout(resolve, delays.shift()));
          return { value: value as number };
        },
      },
    };
    const { socket, messages } = start(Slow);
    for (const n of [1, 2, 3]) socket.receive(String(n));
    await vi.runAllTimersAsync();
    expect(messages).toEqual([1, 2, 3].map((value) => ({ type: "json", value })));
  });

  it("sendJson checks the send schema: an invalid value is refused with its issues and not sent", () => {
    const { socket, client } = start();
    expect(client.sendJson({ type: "say", text: "hello" })).toEqual({ ok: true, value: "sent" });
    const refused = client.sendJson({ type: "say", text: "far too long a text" });
    expect(refused.ok === false && refused.error.type === "invalid" && refused.error.issues[0]?.path).toEqual(["text"]);
    expect(socket.sent).toEqual(['{"type":"say","text":"hello"}']);
  });

  it("sendJson throws on a value JSON cannot represent, and on a send schema that validates asynchronously", () => {
    const sockets = fakeSockets();
    const Async: StandardSchemaV1<unknown> = {
      "~standard": { version: 1, vendor: "test", validate: async (value) => ({ value }) },
    };
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      send: Async,
      onInit: () => null,
      onMessage: (s) => s,
    });
    expect(() => client.sendJson({})).toThrow(/validates synchronously/);
    const plain = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      onInit: () => null,
      onMessage: (s) => s,
    });
    expect(() => plain.sendJson(undefined)).toThrow(/no JSON representation/);
  });

  it("infers the message types from the schemas (checked by tsc)", () => {
    const sockets = fakeSockets();
    const client = connect("ws://test/", {
      WebSocket: sockets.WebSocket,
      dependencies: null,
      receive: Said,
      send: Say,
      onInit: () => "",
      onMessage: (state, message) => (message.type === "json" ? message.value.user : state),
    });
    client.sendJson({ type: "say", text: "ok" });
    // @ts-expect-error: not what the send schema accepts
    client.sendJson({ type: "shout", text: "no" });
    expect(sockets.all).toHaveLength(1);
  });
});
