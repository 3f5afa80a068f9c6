// Clients that never finish the closing handshake: they are dropped after a bounded grace, whether
// the server closed them for not reading (slowConsumerLimit) or because it is shutting down.
import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { TagStats } from "../../fixture/app.ts";
import { eventually } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { startServer } from "../../matrix/server.ts";
import { hostileUpgrade, sleep, within } from "../helpers/raw-socket.ts";

const stats = async (server: FixtureServer, tag: string): Promise<TagStats> =>
  (await fetch(`${server.http}/stats?tag=${tag}`)).json() as Promise<TagStats>;

export function defineAttacks(runtime: Runtime, server: () => FixtureServer): void {
  it("drops a stalled client closed as a slow consumer within about 2 s", async () => {
    const client = await hostileUpgrade(`${server().ws}/ws/echo`);
    client.stopReading();
    // The echo route floods 64 MiB at the client, which reads none of it: 1008, then the 2 s grace.
    client.sendText(`flood:${64 * 1024 * 1024}`);
    await sleep(3000);
    // Reading again lets the server's close frame through; the client never answers it. The
    // connection must already be dropped (or be dropped as soon as the queued bytes drained).
    client.resumeReading();
    expect(await within(client.gone, 3000)).toBe(true);
  });

  it("closes a stalled client with 1008 when the runtime's own send buffer limit is hit first", async () => {
    const tag = randomUUID();
    const client = await hostileUpgrade(`${server().ws}/ws/roomy?tag=${tag}`);
    client.stopReading();
    // maxBufferedAmount (32 MiB) is above Bun's backpressureLimit (16 MiB): Bun drops frames
    // before wsloop refuses them, with the socket still open.
    client.sendText(`flood:${96 * 1024 * 1024}`);
    await eventually(async () => (await stats(server(), tag)).closedNotices.length === 1);
    expect((await stats(server(), tag)).closedNotices).toEqual([1008]);
    await sleep(2500);
    client.resumeReading();
    expect(await within(client.gone, 3000)).toBe(true);
  });

  it("close() drops clients that never answer the close frame (nor read) within a few seconds", async () => {
    const own = await startServer(runtime);
    try {
      const clients = await Promise.all(Array.from({ length: 20 }, () => hostileUpgrade(`${own.ws}/ws/echo`)));
      for (const client of clients) client.stopReading();
      const started = Date.now();
      await fetch(`${own.http}/shutdown`);
      const closed = within(
        (async () => {
          while (!/CLOSED/.test(own.output())) await sleep(50);
        })(),
        10_000,
      );
      expect(await closed).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const client of clients) client.resumeReading();
      expect(await within(Promise.all(clients.map((client) => client.gone)), 3000)).toBe(true);
    } finally {
      await own.kill();
    }
  });
}
