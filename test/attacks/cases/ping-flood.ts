// A client that pings without ever reading: `ws` used to queue one pong per ping on Node (1 million
// pings took a server from 84 to 535 MiB). Now a few pongs may wait to be written, later pings only
// replace the payload to answer; a burst of pings from a client that reads gets every pong.
import type { Socket } from "node:net";
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

  it("answers each of 10 pings sent in one write with its own payload (Autobahn case 2.10)", async () => {
    const socket = await deafUpgrade(`${server().ws}/ws/echo`);
    const payloads = Array.from({ length: 10 }, (_, i) => `payload ${i}`);
    const pongs = readPongs(socket, payloads.length, 5_000);
    socket.resume();
    await send(socket, Buffer.concat(payloads.map((text) => bigFrame(0x9, new TextEncoder().encode(text)))));
    expect(await pongs).toEqual(payloads);
    socket.destroy();
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

/** The payloads of the first `count` pongs the server sends on `socket` (fewer if `ms` pass first). */
function readPongs(socket: Socket, count: number, ms: number): Promise<string[]> {
  return new Promise((resolve) => {
    const pongs: string[] = [];
    let data = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      resolve(pongs);
    };
    const timer = setTimeout(finish, ms);
    // Server frames are unmasked; pongs carry at most 125 bytes, so no extended length here.
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 2 && data.length >= 2 + ((data[1] as number) & 0x7f)) {
        const length = (data[1] as number) & 0x7f;
        if (((data[0] as number) & 0x0f) === 0xa) pongs.push(data.subarray(2, 2 + length).toString());
        data = data.subarray(2 + length);
      }
      if (pongs.length >= count) finish();
    };
    socket.on("data", onData);
  });
}
