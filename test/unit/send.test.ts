import { describe, expect, it } from "vitest";
import { utf8Length } from "../../src/core/size.ts";
import { type Connection, continueConnection, sendBinary, sendText, upgradeWebSocket } from "../../src/index.ts";
import { upgradeRequest } from "../../src/testing.ts";
import { openKeepingConnection } from "./helpers.ts";

describe("sendText / sendBinary", () => {
  it("send text and binary frames in order, without copying binary data", async () => {
    const { socket, connection } = await openKeepingConnection();
    const bytes = new Uint8Array([1, 2, 3]);
    expect(sendText(connection, "héllo")).toEqual({ ok: true, value: undefined });
    expect(sendBinary(connection, bytes)).toEqual({ ok: true, value: undefined });
    expect(socket.frames).toEqual([
      { type: "text", text: "héllo" },
      { type: "binary", data: bytes },
    ]);
    expect((socket.frames[1] as { data: Uint8Array }).data).toBe(bytes);
  });

  it("return too_large with the UTF-8 size for a frame over maxMessageSize", async () => {
    const { socket, connection } = await openKeepingConnection({ maxMessageSize: 4 });
    expect(sendText(connection, "€€")).toEqual({ ok: false, error: { type: "too_large", size: 6, limit: 4 } });
    expect(sendBinary(connection, new Uint8Array(5))).toEqual({ ok: false, error: { type: "too_large", size: 5, limit: 4 } });
    expect(sendText(connection, "€")).toEqual({ ok: true, value: undefined });
    expect(socket.texts()).toEqual(["€"]);
  });

  it("return backpressure while the outgoing buffer is over maxBufferedAmount", async () => {
    const { socket, connection } = await openKeepingConnection({ maxBufferedAmount: 100 });
    socket.bufferedAmount = 101;
    expect(sendText(connection, "x")).toEqual({ ok: false, error: { type: "backpressure", bufferedAmount: 101 } });
    socket.bufferedAmount = 100;
    expect(sendText(connection, "x").ok).toBe(true);
  });

  it("return closed after the socket closed, and never throw", async () => {
    const { socket, connection } = await openKeepingConnection();
    socket.close();
    await socket.settled();
    expect(sendText(connection, "x")).toEqual({ ok: false, error: { type: "closed" } });
    expect(sendBinary(connection, new Uint8Array(1))).toEqual({ ok: false, error: { type: "closed" } });
  });

  it("return closed when the runtime throws on write", async () => {
    let connection!: Connection;
    const response = upgradeWebSocket(upgradeRequest(), {
      dependencies: null,
      onInit: (c: Connection): [null] => {
        connection = c;
        return [null];
      },
      onMessage: (s: null) => continueConnection(s),
      onClose: () => {},
    });
    const { Session } = await import("../../src/core/session.ts");
    const { takeUpgrade } = await import("../../src/core/upgrade.ts");
    const pending = takeUpgrade(new Request("http://x"), response);
    if (!pending) throw new Error("no upgrade");
    new Session(pending, {
      send() {
        throw new Error("socket gone");
      },
      close() {},
      terminate() {},
      bufferedAmount: 0,
    }).start();
    expect(sendText(connection, "x")).toEqual({ ok: false, error: { type: "closed" } });
  });

  it("count UTF-8 bytes exactly", () => {
    const samples = ["", "ascii", "é", "€", "𝄞", "a😀b", "\ud800", "\udc00x", "mixed é€𝄞 text"];
    for (const sample of samples) expect(utf8Length(sample)).toBe(new TextEncoder().encode(sample).byteLength);
  });
});
