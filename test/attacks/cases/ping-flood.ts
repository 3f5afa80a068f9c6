// A client that pings without ever reading: `ws` used to queue one pong per ping on Node (1 million
// pings took a server from 84 to 535 MiB). Now a ping waits for the previous pong to be written.
import { expect, it } from "vitest";
import { open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { bigFrame, deafUpgrade, rss, send } from "../wire.ts";

const PINGS = 200_000;
// 125 bytes, the most a ping may carry: the largest pong to queue.
const ping = bigFrame(0x9, new Uint8Array(125).fill(0x70));
const BATCH = 1_000;
const batch = new Uint8Array(ping.length * BATCH);
for (let i = 0; i < BATCH; i++) batch.set(ping, i * ping.length);

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  it("still answers each ping of a client that reads with its payload", async () => {
    const client = await open(`${server().ws}/ws/echo`);
    for (const payload of ["one", "two", "three"]) {
      const pong = new Promise<string>((resolve) => client.socket.once("pong", (data: Buffer) => resolve(data.toString())));
      client.socket.ping(payload);
      expect(await pong).toBe(payload);
    }
    client.socket.close();
  });

  it(`stays bounded under ${PINGS / 1000}k pings from a client that never reads`, async () => {
    const before = await rss(server().http);
    const socket = await deafUpgrade(`${server().ws}/ws/echo`);
    // A runtime may stop reading while its pongs cannot be written (TCP pushes back): also bounded.
    const deadline = Date.now() + 5_000;
    let sent = 0;
    for (; sent < PINGS && !socket.destroyed && Date.now() < deadline; sent += BATCH) await send(socket, batch, deadline);
    // The server has read them all once an echo on another socket answers after them.
    const probe = await open(`${server().ws}/ws/echo`);
    expect(await probe.ask("after the flood")).toBe("after the flood");
    const growth = (await rss(server().http)) - before;
    probe.socket.close();
    socket.destroy();
    // ~26 MB of pings went in; one pong per ping would have queued ~27 MB of frames, several times that in memory.
    expect(growth).toBeLessThan(48 * 1024 * 1024);
  });
}
