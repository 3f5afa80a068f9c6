// Clients that send an upgrade request and then reset (or half-close) the connection while the app
// decides. On Node the raw socket had no 'error' listener during that time: one reset killed the process.
import { expect, it } from "vitest";
import { open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { tcp, upgradeHead } from "../wire.ts";

// Refusing routes, routes that await before answering, and accepting ones.
const routes = ["/ws/guarded", "/ws/later?ms=2&refuse", "/ws/later?ms=2", "/ws/later?ms=0&refuse", "/ws/echo", "/nowhere"];

/** One hostile client: the request, then a reset (or a FIN) after 0–3 ms. */
async function hitAndRun(base: string, i: number): Promise<void> {
  const route = routes[i % routes.length] as string;
  const socket = await tcp(`${base}${route}`);
  socket.write(upgradeHead(`${base}${route}`));
  const delay = i % 4;
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  if (i % 5 === 4) socket.end();
  else socket.resetAndDestroy();
}

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  it("stays up through 600 upgrade requests reset while the app decides", async () => {
    const echo = await open(`${server().ws}/ws/echo`);
    for (let round = 0; round < 30; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => hitAndRun(server().ws, round * 20 + i)));
      // Normal traffic in between: the server still answers an open socket and a new one.
      expect(await echo.ask(`round ${round}`)).toBe(`round ${round}`);
    }
    const fresh = await open(`${server().ws}/ws/echo`);
    expect(await fresh.ask("after")).toBe("after");
    fresh.socket.close();
    echo.socket.close();
  });
}
