// Node's upgrade Request reads the handshake's headers off the raw headers (no Headers made per
// connection): each read must equal what `request.headers.get` answers for the same raw headers.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { toUpgradeRequest, UpgradeRequest } from "../../src/adapters/node-upgrade-request.ts";
import { kHeader } from "../../src/core/upgrade.ts";

const request = (rawHeaders: string[]) =>
  toUpgradeRequest({ url: "/ws", method: "GET", headers: { host: "h" }, rawHeaders, socket: {} } as unknown as IncomingMessage);
const fast = (req: Request, name: string) => (req as unknown as Record<symbol, (name: string) => string | null>)[kHeader]?.(name);

describe("Node's upgrade request headers", () => {
  const cases: string[][] = [
    ["Host", "h", "Upgrade", "websocket", "Sec-WebSocket-Version", "13"],
    ["UPGRADE", " \tWebSocket \t", "upgrade", "h2c", "Origin", "https://a.example", "origin", "https://b.example"],
    ["Sec-WebSocket-Protocol", "a, b", "sec-websocket-protocol", "c", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
    ["Sec-WebSocket-Version", "13", "Sec-WebSocket-Version", "8", "X-Empty", "", "X-Nbsp", "\u00a0v\u00a0"],
  ];
  const names = [
    "host",
    "upgrade",
    "origin",
    "sec-websocket-protocol",
    "sec-websocket-key",
    "sec-websocket-version",
    "x-empty",
    "x-nbsp",
    "missing",
  ];

  it("reads each header as headers.get does, before and after the Headers exist", () => {
    for (const raw of cases) {
      const expected = names.map((name) => request(raw).headers.get(name));
      const req = request(raw);
      expect(names.map((name) => fast(req, name))).toEqual(expected);
      void req.headers;
      expect(names.map((name) => fast(req, name))).toEqual(expected);
    }
  });

  it("reads each header the same once handed off (the raw headers then kept joined), through headers too", () => {
    for (const raw of [...cases, []]) {
      const expected = names.map((name) => request(raw).headers.get(name));
      const entries = [...request(raw).headers];
      const req = request(raw);
      UpgradeRequest.handedOff(req);
      expect(names.map((name) => fast(req, name))).toEqual(expected);
      expect([...req.headers]).toEqual(entries);
      expect(names.map((name) => fast(req, name))).toEqual(expected);
      UpgradeRequest.handedOff(req);
      expect([...req.headers]).toEqual(entries);
    }
    // A line feed in a value (which Node's parser never lets through) keeps them unjoined.
    const req = request(["X-Line", "a\nb", "Host", "h"]);
    UpgradeRequest.handedOff(req);
    expect([fast(req, "x-line"), fast(req, "host")]).toEqual(["a\nb", "h"]);
  });
});
