// 20,000 connect → echo → close cycles: every onInit has its onClose, and the server's heap after a
// full collection ends where it began (within a stated bound): nothing is kept per connection.
import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { eventually, open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";

const CYCLES = 20_000;
const CONCURRENCY = 50;

async function heap(http: string): Promise<number> {
  return (await (await fetch(`${http}/heap`)).json()) as number;
}

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  it(`runs ${CYCLES.toLocaleString("en")} connect, echo, close cycles with onInit = onClose and the heap back where it was`, async () => {
    const tag = randomUUID();
    const url = `${server().ws}/ws/echo?tag=${tag}`;
    // Warm up (JIT, pools), then measure.
    for (let i = 0; i < 200; i++) {
      const client = await open(url);
      await client.ask("warm");
      client.socket.close();
      await client.closed;
    }
    const before = await heap(server().http);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < CYCLES) {
          const client = await open(url);
          expect(await client.ask("ping")).toBe("ping");
          client.socket.close();
          await client.closed;
        }
      }),
    );
    const total = CYCLES + 200;
    await eventually(async () => {
      const stats = (await (await fetch(`${server().http}/stats?tag=${tag}`)).json()) as { inits: number; closes: number };
      return stats.inits === total && stats.closes === total;
    }, 30_000);
    // The fixture keeps a few numbers per connection itself (closeStates): 64 bytes each at most.
    const growth = (await heap(server().http)) - before;
    expect(growth).toBeLessThan(CYCLES * 64 + 2 * 1024 * 1024);
  }, 180_000);
}
