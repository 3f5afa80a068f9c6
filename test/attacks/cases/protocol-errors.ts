// A client that breaks the protocol: the closed notice onMessage gets carries the code the runtime
// sent on the wire (Bun reported 1006 to its close handler for all of them).
import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { TagStats } from "../../fixture/app.ts";
import { eventually } from "../../matrix/client.ts";
import { frame, rawUpgrade } from "../../matrix/raw.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";

export function defineAttacks(runtime: Runtime, server: () => FixtureServer): void {
  const stats = async (tag: string) => (await (await fetch(`${server().http}/stats?tag=${tag}`)).json()) as TagStats;
  const tooBig = new Uint8Array([0x82, 0xff, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 2, 3, 4, ...new Uint8Array(1024)]);

  // Node's side is another change (its close hook); Deno sends no close frame at all: its notice says 1006.
  it.skipIf(runtime === "node")("reports the close code sent for invalid UTF-8, a bad opcode and a too large frame", async () => {
    for (const [bytes, path] of [
      [frame(0x1, new Uint8Array([0x68, 0xff, 0xfe, 0x69])), "/ws/echo"],
      [frame(0x3, new Uint8Array([1, 2, 3])), "/ws/echo"],
      // Announces 256 MiB: above every runtime's own cap where it has one.
      [tooBig, "/ws/limited"],
    ] as const) {
      const tag = randomUUID();
      const raw = await rawUpgrade(`${server().ws}${path}?tag=${tag}`);
      raw.write(bytes);
      const wire = await raw.closeCode;
      raw.destroy();
      await eventually(async () => (await stats(tag)).closes === 1);
      expect((await stats(tag)).closedNotices).toEqual([wire ?? 1006]);
    }
  });
}
