// Shutdown while upgrades are still in the app's fetch: close() must neither hang nor let a socket
// open unnoticed. Each client gets 503, or 101 followed by a 1001 close, and every onInit has its onClose.
import { expect, it } from "vitest";
import type { TagStats } from "../../fixture/app.ts";
import { type FixtureServer, type Runtime, startServer } from "../../matrix/server.ts";
import { exchange, statusLine, upgradeHead } from "../wire.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 503, or 101 then a close frame with 1001 (0x03e9); anything else as it came. */
function outcomeOf(text: string): string {
  const status = statusLine(text);
  if (status.startsWith("HTTP/1.1 503")) return "503";
  if (status.startsWith("HTTP/1.1 101"))
    return text.includes("\x88") && text.includes("\x03\xe9") ? "101+1001" : "101 without 1001";
  return status || "nothing";
}

export function defineAttacks(runtime: Runtime, _server: () => FixtureServer): void {
  it("close() resolves while upgrades are in the app's fetch; none opens unnoticed", async () => {
    const own = await startServer(runtime);
    try {
      // Fetches that end before, around and after shutdown begins (it begins ~60 ms from now).
      const clients = Array.from({ length: 24 }, (_, i) => {
        const url = `${own.ws}/ws/later?ms=${i * 12}&tag=late`;
        return exchange(url, upgradeHead(url), 10_000);
      });
      await sleep(50);
      await fetch(`${own.http}/shutdown`);
      const exit = await Promise.race([own.exited, sleep(10_000).then(() => "still running after 10 s")]);
      expect(exit).toBe(0);
      const outcomes = (await Promise.all(clients)).map(outcomeOf);
      for (const outcome of outcomes) expect(["503", "101+1001"]).toContain(outcome);
      expect(outcomes).toContain("503");
      const stats = JSON.parse(/CLOSED (.*)/.exec(own.output())?.[1] ?? "{}") as Record<string, TagStats>;
      const late = stats.late ?? { inits: 0, closes: 0 };
      expect(late.closes).toBe(late.inits);
    } finally {
      await own.kill();
    }
  });
}
