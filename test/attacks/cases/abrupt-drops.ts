// Clients that vanish without a close frame: what the server keeps of each must stay small. Deno
// keeps a closed socket until its idle timeout (120 s by default); wsloop's objects must not stay
// with it.
import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { TagStats } from "../../fixture/app.ts";
import { eventually, open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";

// Measured heap per dropped socket, 5,000 drops: Deno 8.4 KB before wsloop let go of its objects,
// 6.1 KB after, 4.8 KB since it upgrades without crossws' Deno adapter (raw Deno.upgradeWebSocket
// 3.6 KB, crossws alone 7.2 KB); Node 0.2 KB, Bun < 0.1 KB.
const bound: Record<Runtime, number> = { deno: 6000, node: 1024, bun: 1024 };

export function defineAttacks(runtime: Runtime, server: () => FixtureServer): void {
  const heap = async () => (await (await fetch(`${server().http}/heap`)).json()) as number;
  const drops = async (count: number) => {
    const tag = randomUUID();
    for (let batch = 0; batch < count / 100; batch++) {
      const clients = await Promise.all(Array.from({ length: 100 }, () => open(`${server().ws}/ws/echo?tag=${tag}`)));
      for (const client of clients) client.socket.terminate();
    }
    await eventually(
      async () => ((await (await fetch(`${server().http}/stats?tag=${tag}`)).json()) as TagStats).closes >= count,
      20_000,
    );
  };

  it("keeps little of 5,000 clients that dropped their TCP connection without closing", async () => {
    await drops(500);
    const before = await heap();
    await drops(5000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const perSocket = ((await heap()) - before) / 5000;
    expect(perSocket).toBeLessThan(bound[runtime]);
  }, 60_000);
}
