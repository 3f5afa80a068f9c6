// Flow control, abuse limits, stats, telemetry and draining shutdown, against the fixture app on
// each runtime: on the shared server, and on servers of their own started with serve options.
import { randomUUID } from "node:crypto";
import { describe, expect } from "vitest";
import type { ServerStats } from "../../src/adapters/types.ts";
import { exchange, statusLine, upgradeHead } from "../attacks/wire.ts";
import type { PacedStats, TagStats } from "../fixture/app.ts";
import type { Observation, RecordedSpan } from "../fixture/otel.ts";
import { caseOn } from "./cannot-apply.ts";
import { type Client, eventually, open } from "./client.ts";
import { type FixtureServer, type MatrixRuntime, type Runtime, startScript } from "./server.ts";

const MiB = 1024 * 1024;
const MESSAGES = 100_000;

/** `url` opened from another loopback address (Linux routes all of 127.0.0.0/8 to lo). */
const openFrom = (url: string, localAddress: string) => open(url, undefined, { localAddress });

/** The HTTP status (and Retry-After) an upgrade was refused with. */
async function refusal(url: string, localAddress = "127.0.0.1"): Promise<{ status: number; retryAfter: string | undefined }> {
  const { WebSocket } = await import("./client.ts");
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { localAddress });
    socket.once("unexpected-response", (_request, response) => {
      resolve({ status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"] as string | undefined });
      socket.terminate();
    });
    socket.once("open", () => reject(new Error("upgraded")));
    socket.once("error", () => {});
  });
}

export function defineFlow(runtime: MatrixRuntime, server: () => FixtureServer): void {
  const it = caseOn(runtime);
  // Bun (1.4) and Node (ws) can stop reading a socket; Deno and workerd cannot.
  const pauses = runtime === "node" || runtime === "bun";

  describe("flow control, limits and stats", () => {
    const tagged = (path: string) => {
      const tag = randomUUID();
      return { tag, url: `${server().ws}${path}?tag=${tag}` };
    };
    const get = async <T>(path: string, tag = ""): Promise<T> =>
      (await fetch(`${server().http}${path}?tag=${tag}`)).json() as Promise<T>;
    const serverStats = () => get<ServerStats>("/server-stats");
    const stats = (tag: string) => get<TagStats>("/stats", tag);

    it("counts in stats(): upgrades accepted and refused, messages and bytes both ways, closes by code, handler time", async () => {
      const before = await serverStats();
      await expect(open(tagged("/ws/guarded").url)).rejects.toThrow("HTTP 403");
      const { tag, url } = tagged("/ws/echo");
      const client = await open(url);
      // Handler times are sampled; sampling restarts every second, with the first call timed.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      for (let i = 0; i < 63; i++) client.send("hello");
      client.send(new Uint8Array([1, 2, 3]));
      await client.received(64);
      client.socket.close(4001);
      await eventually(async () => (await stats(tag)).closes === 1);
      const after = await serverStats();
      expect(after.upgrades.accepted - before.upgrades.accepted).toBe(1);
      expect((after.upgrades.refused[403] ?? 0) - (before.upgrades.refused[403] ?? 0)).toBe(1);
      expect(after.messagesIn - before.messagesIn).toBe(64);
      expect(after.bytesIn - before.bytesIn).toBe(63 * 5 + 3);
      expect(after.messagesOut - before.messagesOut).toBe(64);
      expect(after.bytesOut - before.bytesOut).toBe(63 * 5 + 3);
      expect((after.closes[4001] ?? 0) - (before.closes[4001] ?? 0)).toBe(1);
      expect(after.handlerTime.count - before.handlerTime.count).toBeGreaterThanOrEqual(1);
      expect(after.handlerTime.p99).toBeGreaterThanOrEqual(after.handlerTime.p50);
      expect(after.connections).toBe(0);
    });

    it(pauses
      ? `slows a client blasting ${MESSAGES.toLocaleString("en")} messages at a slow handler: reading pauses, nobody is closed, every message handled in order, the queue stays small`
      : `closes a client blasting ${MESSAGES.toLocaleString("en")} messages at a slow handler with 1008 at maxQueuedBytes (the runtime cannot stop reading a socket)`, async () => {
      const { tag, url } = tagged("/ws/paced");
      const before = await serverStats();
      const client = await open(url);
      const padding = "x".repeat(100);
      for (let i = 0; i < MESSAGES; i++) client.send(`${i}:${padding}`);
      if (pauses) {
        expect(await client.ask("count?")).toBe(`count:${MESSAGES}:true`);
        const after = await serverStats();
        expect(after.pauses).toBeGreaterThan(before.pauses);
        // Unpaused, the queue would have reached maxQueuedBytes (8 MiB) and closed with 1008. What
        // it holds past pauseReadingAt (256 KiB) is what the runtime had read before the pause.
        expect(after.peakQueuedBytes).toBeLessThan(4 * MiB);
        expect(after.queueOverflows).toBe(before.queueOverflows);
        client.socket.close(1000);
        await eventually(async () => (await stats(tag)).closes === 1);
        expect((await stats(tag)).closedNotices).toEqual([1000]);
      } else {
        // Deno may reset a client still sending right after its close frame (README).
        expect([1008, 1006]).toContain((await client.closed).code);
        await eventually(async () => (await stats(tag)).closes === 1);
        expect((await stats(tag)).closedNotices).toEqual([1008]);
        expect((await serverStats()).queueOverflows).toBe(before.queueOverflows + 1);
        expect((await get<PacedStats>("/paced", tag)).inOrder).toBe(true);
      }
    }, 120_000);

    it("rate limit: closes with 1008 past the burst, or hands the frames over it to the handler in their place", async () => {
      const before = runtime === "cloudflare" ? undefined : await serverStats();
      const closing = tagged("/ws/rated");
      const limited = await open(closing.url);
      for (let i = 0; i < 8; i++) limited.send(`m${i}`);
      expect((await limited.closed).code).toBe(runtime === "deno" ? (limited.closedWith?.code ?? 1008) : 1008);
      await eventually(async () => (await stats(closing.tag)).closes === 1);
      expect((await stats(closing.tag)).closedNotices).toEqual([1008]);
      expect(limited.messages).toEqual(["m0", "m1", "m2", "m3", "m4"]);

      const told = await open(tagged("/ws/rated-notice").url);
      for (let i = 0; i < 8; i++) told.send(`m${i}`);
      expect(await told.received(8)).toEqual(["m0", "m1", "m2", "m3", "m4", "limited:m5", "limited:m6", "limited:m7"]);
      // Two a second: the bucket has a frame's worth again within a second.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await told.ask("later")).toBe("later");
      told.socket.close();
      // A Worker has no server, so no stats().
      if (before) expect((await serverStats()).rateLimited - before.rateLimited).toBe(4);
    });
  });

  describe("serve({ maxConnections, maxConnectionsPerIp, upgradeTimeout, telemetry })", () => {
    it("refuses past the caps with 429 / 503 and Retry-After, times out a slow fetch with 503, and traces", async () => {
      const own = await startScript(runtime as Runtime, `test/fixture/${runtime}.ts`, /READY (\d+)/, {
        FIXTURE_SERVE: JSON.stringify({ maxConnections: 3, maxConnectionsPerIp: 2, upgradeTimeout: 1, telemetry: true }),
        FIXTURE_OTEL: "1",
      });
      try {
        const url = `${own.ws}/ws/echo?tag=caps`;
        const first = await open(url);
        const second = await open(url);
        const perIp = await refusal(url);
        expect(perIp.status).toBe(429);
        expect(Number(perIp.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(Number(perIp.retryAfter)).toBeLessThanOrEqual(5);
        const third = await openFrom(url, "127.0.0.2");
        const full = await refusal(url, "127.0.0.3");
        expect(full.status).toBe(503);
        expect(Number(full.retryAfter)).toBeGreaterThanOrEqual(1);
        // A place given back is taken again.
        first.socket.close(1000);
        await first.closed;
        await eventually(async () => {
          const stats = (await (await fetch(`${own.http}/server-stats`)).json()) as ServerStats;
          return stats.connections === 2;
        });
        const again = await open(url);
        expect(await again.ask("in")).toBe("in");
        for (const client of [second, third, again]) client.socket.close(1000);
        await Promise.all([second.closed, third.closed, again.closed]);
        await eventually(async () => ((await (await fetch(`${own.http}/server-stats`)).json()) as ServerStats).connections === 0);

        // The app takes 3 s to answer; upgradeTimeout is 1 s.
        const started = Date.now();
        expect((await refusal(`${own.ws}/ws/later?ms=3000&tag=slow`)).status).toBe(503);
        expect(Date.now() - started).toBeLessThan(2_900);
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        const stats = (await (await fetch(`${own.http}/server-stats`)).json()) as ServerStats;
        expect(stats.upgrades.refused).toMatchObject({ 429: 1, 503: 2 });
        expect(stats.upgrades.accepted).toBe(4);
        // The late answer opened nothing.
        expect(((await (await fetch(`${own.http}/stats?tag=slow`)).json()) as TagStats).inits).toBe(0);

        // Telemetry: a span per connection (ended, with its close code), one per message within it.
        const spans = (await (await fetch(`${own.http}/otel/spans`)).json()) as RecordedSpan[];
        const connections = spans.filter((span) => span.name === "wsloop connection");
        expect(connections.map((span) => span.attributes["websocket.close.code"])).toEqual([1000, 1000, 1000, 1000]);
        for (const span of connections) expect(span.endTime).toBeGreaterThanOrEqual(span.startTime);
        const handled = spans.filter((span) => span.name === "wsloop message");
        // Each closed notice is handled too.
        expect(handled.filter((span) => span.attributes["wsloop.message.type"] === "closed")).toHaveLength(4);
        const messages = handled.filter((span) => span.attributes["wsloop.message.type"] === "text");
        expect(messages).toHaveLength(1);
        expect(messages[0]?.attributes).toMatchObject({ "wsloop.message.type": "text", "wsloop.queued_ms": 0 });
        expect(messages[0]?.attributes["wsloop.handler_ms"]).toBeGreaterThanOrEqual(0);
        expect(connections.map((span) => span.id)).toContain(messages[0]?.parentId);
        const metrics = (await (await fetch(`${own.http}/otel/metrics`)).json()) as {
          observations: Observation[];
          histograms: Record<string, number>;
        };
        const observed = (name: string, attributes: Record<string, unknown> = {}) =>
          metrics.observations.find(
            (o) => o.name === name && Object.entries(attributes).every(([key, value]) => o.attributes[key] === value),
          )?.value;
        expect(observed("wsloop.connections")).toBe(0);
        expect(observed("wsloop.messages.received")).toBe(1);
        expect(observed("wsloop.upgrades", { outcome: "refused", "http.response.status_code": 429 })).toBe(1);
        expect(observed("wsloop.closes", { "websocket.close.code": 1000 })).toBe(4);
        // Every handled message, the closed notices included, is timed while telemetry is on.
        expect(metrics.histograms["wsloop.handler.duration"]).toBe(5);
      } finally {
        await own.kill();
      }
    }, 60_000);

    /** A server of its own with maxConnectionsPerIp 1: a place not given back shows at the next upgrade (429). */
    const onePerIp = async (test: (own: FixtureServer, serverStats: () => Promise<ServerStats>) => Promise<void>) => {
      const own = await startScript(runtime as Runtime, `test/fixture/${runtime}.ts`, /READY (\d+)/, {
        FIXTURE_SERVE: JSON.stringify({ maxConnectionsPerIp: 1 }),
      });
      const serverStats = async () => (await (await fetch(`${own.http}/server-stats`)).json()) as ServerStats;
      try {
        await test(own, serverStats);
        const echo = await open(`${own.ws}/ws/echo`);
        expect(await echo.ask("in")).toBe("in");
        echo.socket.close(1000);
        await echo.closed;
      } finally {
        await own.kill();
      }
    };

    it("answers 500 to an upgrade the app answers with no Response, at once or later, and gives its place back", async () => {
      await onePerIp(async (own, serverStats) => {
        // At once, Node's process died of an unhandled rejection and Bun and Deno kept the client's
        // only place for good; later, it got 503 as if the app had not answered in time.
        expect((await refusal(`${own.ws}/ws/nothing`)).status).toBe(500);
        expect((await refusal(`${own.ws}/ws/nothing?later`)).status).toBe(500);
        // An object that is not a Response passed for an accepted upgrade (Node's process died again).
        expect((await refusal(`${own.ws}/ws/nothing?object`)).status).toBe(500);
        expect((await refusal(`${own.ws}/ws/nothing?object&later`)).status).toBe(500);
        expect((await serverStats()).upgrades.refused).toEqual({ 500: 4 });
      });
    }, 30_000);

    it("answers 500 and keeps serving when the app's onError throws or rejects as well", async () => {
      for (const failing of ["throw", "reject"]) {
        const own = await startScript(runtime as Runtime, `test/fixture/${runtime}.ts`, /READY (\d+)/, {
          FIXTURE_ON_ERROR: failing,
        });
        try {
          // Before, on Node, the onError's throw escaped the request handler: the process died.
          expect((await fetch(`${own.http}/http/throw`)).status).toBe(500);
          expect((await refusal(`${own.ws}/ws/bad-header`)).status).toBe(500);
          expect((await refusal(`${own.ws}/ws/nothing`)).status).toBe(500);
          const echo = await open(`${own.ws}/ws/echo`);
          expect(await echo.ask("in")).toBe("in");
          echo.socket.close(1000);
          await echo.closed;
          expect(own.output()).toMatch(/onError failed/);
        } finally {
          await own.kill();
        }
      }
    }, 30_000);

    it("does not upgrade a second client on the first one's request when the app answers it the same marker", async () => {
      await onePerIp(async (own, serverStats) => {
        const first = await open(`${own.ws}/ws/reused?first`);
        expect(await first.ask("url")).toMatch(/\/ws\/reused\?first$/);
        first.socket.close(1000);
        await first.closed;
        await eventually(async () => (await serverStats()).connections === 0);
        // It was upgraded with the first request (its URL, its headers), and its place never given back.
        expect((await refusal(`${own.ws}/ws/reused?second`)).status).toBe(426);
        expect((await serverStats()).upgrades.refused).toEqual({ 426: 1 });
      });
    }, 30_000);

    it("answers an upgrade without Connection: Upgrade without a 500 or a stack trace, and holds no place for it", async () => {
      await onePerIp(async (own, serverStats) => {
        const url = `${own.ws}/ws/echo`;
        const head = upgradeHead(url).replace("Connection: Upgrade\r\n", "");
        // 426 on every runtime (before: Bun upgraded it, and Deno.upgradeWebSocket threw: a 500 from
        // Deno.serve, its stack printed, the place held 2 s).
        expect(statusLine(await exchange(url, head, 500))).toBe("HTTP/1.1 426 Upgrade Required");
        await eventually(async () => (await serverStats()).connections === 0);
        expect(own.output()).not.toMatch(/TypeError|Error:/);
      });
    }, 30_000);

    if (runtime === "node") {
      it("drops a client that never finishes its request head after upgradeTimeout (Node's headersTimeout)", async () => {
        const own = await startScript(runtime, "test/fixture/node.ts", /READY (\d+)/, {
          FIXTURE_SERVE: JSON.stringify({ upgradeTimeout: 1 }),
        });
        try {
          const { tcp } = await import("../attacks/wire.ts");
          const socket = await tcp(`${own.ws}/ws/echo`);
          const ended = new Promise<string>((resolve) => {
            let text = "";
            socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
            socket.once("close", () => resolve(text));
          });
          socket.write(`GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`);
          const started = Date.now();
          expect(await ended).toMatch(/^HTTP\/1\.1 408/);
          expect(Date.now() - started).toBeLessThan(5_000);
        } finally {
          await own.kill();
        }
      }, 30_000);
    }
  });

  describe("close({ drain })", () => {
    it("spreads the 1001 closes of 50 sockets over the window, and resolves after every onClose", async () => {
      const own = await startScript(runtime as Runtime, `test/fixture/${runtime}.ts`, /READY (\d+)/);
      try {
        const clients: Client[] = await Promise.all(Array.from({ length: 50 }, () => open(`${own.ws}/ws/echo?tag=drain`)));
        await Promise.all(clients.map(async (client) => expect(await client.ask("hi")).toBe("hi")));
        const closedAt: number[] = [];
        for (const client of clients) void client.closed.then(() => closedAt.push(Date.now()));
        await fetch(`${own.http}/shutdown?drain=1`);
        for (const client of clients) expect((await client.closed).code).toBe(1001);
        expect(await own.exited).toBe(0);
        // Ten batches 100 ms apart: the last close comes at least ~900 ms after the first.
        expect(Math.max(...closedAt) - Math.min(...closedAt)).toBeGreaterThanOrEqual(700);
        const final = JSON.parse(/CLOSED (.*)/.exec(own.output())?.[1] ?? "{}") as Record<string, TagStats>;
        expect(final.drain).toEqual({
          inits: 50,
          closes: 50,
          closedNotices: Array(50).fill(1001),
          closeStates: Array(50).fill(1),
        });
      } finally {
        await own.kill();
      }
    }, 60_000);
  });
}
