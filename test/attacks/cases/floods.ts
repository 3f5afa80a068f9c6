// Empty and tiny frames as fast as a client can send them, at a handler that takes 10 ms each
// (/ws/sluggish, maxQueuedBytes 1 MiB). Each queued message used to weigh only its payload, so
// millions of empty frames grew the server by gigabytes without a close.
import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { TagStats } from "../../fixture/app.ts";
import { eventually } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { bigFrame, rawSocket, rss, send } from "../wire.ts";

const CLIENTS = 3;
const FRAMES = 200_000;

async function flood(url: string, payload: Uint8Array): Promise<number | null> {
  const { socket, closeCode } = await rawSocket(url);
  let closed = false;
  void closeCode.then(() => (closed = true));
  const frame = bigFrame(0x2, payload);
  const batch = new Uint8Array(frame.length * 1000);
  for (let i = 0; i < 1000; i++) batch.set(frame, i * frame.length);
  const deadline = Date.now() + 10_000;
  for (let sent = 0; sent < FRAMES && !closed && !socket.destroyed && Date.now() < deadline; sent += 1000) {
    await send(socket, batch, deadline);
  }
  const code = await Promise.race([closeCode, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000))]);
  socket.destroy();
  return code;
}

export function defineAttacks(runtime: Runtime, server: () => FixtureServer): void {
  for (const [name, payload] of [
    ["empty", new Uint8Array(0)],
    ["1-byte", new Uint8Array(1)],
  ] as const) {
    it(`closes ${CLIENTS} clients flooding ${FRAMES.toLocaleString("en")} ${name} frames at a slow handler with 1008, memory bounded`, async () => {
      const tag = randomUUID();
      const url = `${server().ws}/ws/sluggish?tag=${tag}`;
      const before = await rss(server().http);
      const codes = await Promise.all(Array.from({ length: CLIENTS }, () => flood(url, payload)));
      const growth = (await rss(server().http)) - before;
      // Deno resets a connection whose client is still sending right after its close frame, so the
      // client may never read it (README's runtime differences); the server side closed with 1008.
      for (const code of codes) expect(code).toBe(runtime === "deno" && code === null ? null : 1008);
      // 1 MiB of queue per client, and what the runtime read meanwhile: far from the gigabytes of before.
      expect(growth).toBeLessThan(96 * 1024 * 1024);
      await eventually(async () => {
        const stats = (await (await fetch(`${server().http}/stats?tag=${tag}`)).json()) as TagStats;
        return stats.closes === CLIENTS && stats.inits === CLIENTS;
      }, 20_000);
      const { closedNotices } = (await (await fetch(`${server().http}/stats?tag=${tag}`)).json()) as TagStats;
      expect(closedNotices).toEqual(Array.from({ length: CLIENTS }, () => 1008));
    });
  }
}
