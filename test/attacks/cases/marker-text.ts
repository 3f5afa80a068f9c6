// The marker Response upgradeWebSocket returns ("Upgrade Required: serve this with a wsloop
// adapter") is for adapters only: no request shape may make a server send it to a client. Node sent
// it for an upgrade request without `Connection: upgrade`.
import { expect, it } from "vitest";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { exchange } from "../wire.ts";

const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
const shapes: Record<string, string[]> = {
  "no Connection header": ["GET /ws/echo HTTP/1.1", "Upgrade: websocket", key, "Sec-WebSocket-Version: 13"],
  "no key": ["GET /ws/echo HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"],
  "unknown version": ["GET /ws/echo HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade", key, "Sec-WebSocket-Version: 99"],
  "HTTP/1.0": ["GET /ws/echo HTTP/1.0", "Upgrade: websocket", "Connection: Upgrade", key, "Sec-WebSocket-Version: 13"],
  "Connection: close": ["GET /ws/echo HTTP/1.1", "Upgrade: websocket", "Connection: close", key, "Sec-WebSocket-Version: 13"],
  h2c: [
    "GET /ws/echo HTTP/1.1",
    "Upgrade: h2c",
    "Connection: Upgrade, HTTP2-Settings",
    "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
  ],
};

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  it("never sends the internal marker's status text, whatever the request looks like", async () => {
    const host = new URL(server().http).host;
    for (const [name, lines] of Object.entries(shapes)) {
      const [first, ...rest] = lines;
      const text = await exchange(server().ws, `${[first, `Host: ${host}`, ...rest].join("\r\n")}\r\n\r\n`, 1_500);
      expect(text, name).not.toContain("wsloop adapter");
      expect(text, name).toMatch(/^HTTP\/1\.[01] \d{3}/);
    }
  });
}
