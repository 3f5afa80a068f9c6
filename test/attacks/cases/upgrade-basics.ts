// A placeholder that keeps the glob non-empty: a server answers a burst of plain upgrades.
import { expect, it } from "vitest";
import { open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  it("takes 100 upgrades at once and answers each", async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => open(`${server().ws}/ws/echo`)));
    const answers = await Promise.all(clients.map((client, i) => client.ask(`c${i}`)));
    expect(answers).toEqual(clients.map((_, i) => `c${i}`));
    for (const client of clients) client.socket.close();
  });
}
