// A client that offers subprotocols to an endpoint that speaks none must not be told it got one.
import { expect, it } from "vitest";
import { open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { hostileUpgrade } from "../helpers/raw-socket.ts";

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  it("answers no Sec-WebSocket-Protocol to an offer when the endpoint lists no protocols", async () => {
    for (const offer of ["chat.v1, other", "chat.v1,other", "x"]) {
      const raw = await hostileUpgrade(`${server().ws}/ws/plain`, { "Sec-WebSocket-Protocol": offer });
      expect(raw.head.toLowerCase()).not.toContain("sec-websocket-protocol");
      raw.socket.destroy();
    }
    // A client that insists on a protocol (ws, browsers) then fails the connection itself...
    await expect(open(`${server().ws}/ws/plain`, ["chat.v1", "other"])).rejects.toThrow("Server sent no subprotocol");
    // ...and one that offers none speaks without one.
    const client = await open(`${server().ws}/ws/plain`);
    expect(await client.ask("protocol")).toBe("protocol:");
    client.socket.close();
  });

  it("answers only a protocol the endpoint lists, never one it does not", async () => {
    const raw = await hostileUpgrade(`${server().ws}/ws/echo`, { "Sec-WebSocket-Protocol": "evil, chat.v1" });
    expect(raw.head.toLowerCase()).toMatch(/sec-websocket-protocol: chat\.v1\r?$/m);
    raw.socket.destroy();
    const none = await hostileUpgrade(`${server().ws}/ws/echo`, { "Sec-WebSocket-Protocol": "evil" });
    expect(none.head.toLowerCase()).not.toContain("sec-websocket-protocol");
    none.socket.destroy();
  });
}
