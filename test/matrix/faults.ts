// Limits and faults, run against the fixture app on each runtime: what must leave the server
// serving with nothing leaked.
import { randomUUID } from "node:crypto";
import { describe, expect } from "vitest";
import { bigFrame } from "../attacks/wire.ts";
import type { FloodStats, TagStats } from "../fixture/app.ts";
import { caseOn } from "./cannot-apply.ts";
import { type Client, eventually, open } from "./client.ts";
import { frame, rawUpgrade } from "./raw.ts";
import type { FixtureServer, MatrixRuntime } from "./server.ts";

const MiB = 1024 * 1024;

export function defineFaults(runtime: MatrixRuntime, server: () => FixtureServer): void {
  const it = caseOn(runtime);
  // Deno ends the TCP connection itself on a protocol error, without a close frame, and drops it
  // right after its own close frame: a client still sending then gets a reset that discards the
  // frame (raw Deno.upgradeWebSocket does the same). The server side is still closed exactly once.
  const closeFrameOnProtocolError = runtime !== "deno";
  const closeFrameWhileClientSends = runtime !== "deno";
  // workerd does not check that text is UTF-8 (the loop gets U+FFFD for the bad bytes:
  // test/cloudflare/worker.test.ts), and after its own 1002 its close event says 1006.
  const checksUtf8 = runtime !== "cloudflare";
  const noticeOfOwnClose = (code: number) => (runtime === "cloudflare" && code === 1002 ? 1006 : code);

  describe("limits and faults", () => {
    const tagged = (path: string) => {
      const tag = randomUUID();
      return { tag, url: `${server().ws}${path}?tag=${tag}` };
    };
    const get = async <T>(path: string, tag = ""): Promise<T> =>
      (await fetch(`${server().http}${path}?tag=${tag}`)).json() as Promise<T>;
    const stats = (tag: string) => get<TagStats>("/stats", tag);
    const closesReach = (tag: string, count: number, timeoutMs?: number) =>
      eventually(async () => (await stats(tag)).closes >= count, timeoutMs);

    it("closes a client that does not answer pings with 1001 after idleTimeout, and keeps one that does", async () => {
      const { tag, url } = tagged("/ws/idle");
      const healthy = await open(url);
      const silent = await open(url, undefined, { autoPong: false });
      let pings = 0;
      healthy.socket.on("ping", () => pings++);
      expect((await silent.closed).code).toBe(1001);
      await closesReach(tag, 1);
      // Twice the timeout: the healthy client was pinged and is still there.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(pings).toBeGreaterThanOrEqual(2);
      expect(await healthy.ask("still here")).toBe("still here");
      expect((await stats(tag)).closedNotices).toEqual([1001]);
      healthy.socket.close();
    });

    it("refuses a browser upgrade from an origin not allowed with 403, before any socket exists", async () => {
      const { tag, url } = tagged("/ws/origin");
      await expect(open(url, undefined, { origin: "https://evil.example" })).rejects.toThrow("HTTP 403");
      expect((await stats(tag)).inits).toBe(0);
      const good = await open(url, undefined, { origin: "https://good.example" });
      expect(await good.ask("hi")).toBe("hi");
      good.socket.close();
    });

    it("closes with 1007 on a text frame that is not UTF-8, 1002 on a broken frame, 1009 on an oversize one; onMessage hears that code", async () => {
      for (const [path, bytes, code] of [
        ["/ws/echo", frame(0x1, new Uint8Array([0x68, 0xff, 0xfe, 0x69])), 1007],
        ["/ws/echo", frame(0x3, new Uint8Array([1, 2, 3])), 1002],
        ["/ws/limited", bigFrame(0x2, new Uint8Array(2048)), 1009],
      ].filter(([, , code]) => checksUtf8 || code !== 1007) as [string, Uint8Array, number][]) {
        const { tag, url } = tagged(path);
        const raw = await rawUpgrade(url);
        raw.write(bytes);
        // Deno drops the connection without a close frame on its own protocol errors.
        const framed = closeFrameOnProtocolError || code === 1009;
        expect(await raw.closeCode).toBe(framed ? code : null);
        raw.destroy();
        await closesReach(tag, 1);
        expect((await stats(tag)).closes).toBe(1);
        // The closed notice carries the code that closed the socket (Node reported 1006 for these);
        // Deno, which sends no close frame, reports the connection as lost (1006).
        if (runtime !== "bun") expect((await stats(tag)).closedNotices).toEqual([framed ? noticeOfOwnClose(code) : 1006]);
      }
      const after = await open(tagged("/ws/echo").url);
      expect(await after.ask("unharmed")).toBe("unharmed");
      after.socket.close();
    });

    it("runs onClose exactly once for each of 1,000 clients that vanish at once, and leaves no subscription", async () => {
      const { tag, url } = tagged("/ws/crowd");
      const clients: Client[] = [];
      for (let batch = 0; batch < 10; batch++) clients.push(...(await Promise.all(Array.from({ length: 100 }, () => open(url)))));
      await eventually(async () => (await get<number>("/subscribers", tag)) === 1000);
      for (const client of clients) client.socket.terminate();
      await closesReach(tag, 1000, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const final = await stats(tag);
      expect(final.inits).toBe(1000);
      expect(final.closes).toBe(1000);
      expect(await get<number>("/subscribers", tag)).toBe(0);
    });

    it("closes a client that stops reading with 1008, with memory bounded, while others keep their pace", async () => {
      const { tag, url } = tagged("/ws/echo");
      const rssBefore = await get<number>("/memory");
      const stalled = await open(url);
      // The client stops reading from its TCP socket: whatever the server sends piles up.
      (stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const other = await open(tagged("/ws/echo").url);
      stalled.send(`flood:${64 * MiB}`);
      await closesReach(tag, 1);
      const flood = await get<FloodStats>("/flood", tag);
      expect(flood.closed).toBe(1);
      expect(flood.sent + flood.backpressure).toBeLessThan(1024);
      expect((await stats(tag)).closedNotices).toEqual([1008]);
      const rssAfter = await get<number>("/memory");
      expect(rssAfter - rssBefore).toBeLessThan(48 * MiB);
      for (let i = 0; i < 200; i++) expect(await other.ask(`m${i}`)).toBe(`m${i}`);
      other.socket.close();
      stalled.socket.terminate();
    });

    it("closes each socket whose handler throws with 1011 while 50 busy clients finish in order", async () => {
      const { tag, url } = tagged("/ws/tenth");
      const clients = await Promise.all(Array.from({ length: 50 }, () => open(url)));
      // Half the clients send 5 to 9 messages, the other half 15 to 19 and see their 10th fail.
      await Promise.all(
        clients.map(async (client, i) => {
          const count = 5 + (i % 10) + (i % 10 >= 5 ? 5 : 0);
          for (let n = 1; n <= count; n++) client.send(`c${i}-${n}`);
          const answered = Math.min(count, 9);
          const expected = Array.from({ length: answered }, (_, n) => `c${i}-${n + 1}`);
          if (count < 10) {
            expect(await client.received(answered)).toEqual(expected);
            client.socket.close(1000);
            expect((await client.closed).code).toBe(1000);
            expect(client.messages).toEqual(expected);
          } else if (closeFrameWhileClientSends) {
            expect((await client.closed).code).toBe(1011);
            expect(client.messages).toEqual(expected);
          } else {
            // The reset may also discard echoes still in flight: what arrived is in order.
            expect([1011, 1006]).toContain((await client.closed).code);
            expect(client.messages).toEqual(expected.slice(0, client.messages.length));
          }
        }),
      );
      await closesReach(tag, 50);
      expect((await stats(tag)).closes).toBe(50);
    });
  });
}
