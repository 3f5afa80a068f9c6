// Upgrade requests whose head never completes: the server must keep serving others meanwhile and
// let go of them when the clients leave.
import { expect, it } from "vitest";
import { open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { rss, tcp } from "../wire.ts";

const HALF = 500;

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  it(`keeps serving while ${HALF} upgrade requests never finish their head`, async () => {
    const before = await rss(server().http);
    const url = `${server().ws}/ws/echo`;
    const sockets = await Promise.all(
      Array.from({ length: HALF }, async () => {
        const socket = await tcp(url);
        socket.write(`GET /ws/echo HTTP/1.1\r\nHost: ${new URL(url).host}\r\nUpgrade: websocket\r\n`);
        return socket;
      }),
    );
    const client = await open(url);
    expect(await client.ask("still answering")).toBe("still answering");
    client.socket.close();
    expect((await rss(server().http)) - before).toBeLessThan(64 * 1024 * 1024);
    for (const socket of sockets) socket.destroy();
  });
}
