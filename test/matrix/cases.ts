// One set of end-to-end cases, run against the fixture app on each runtime with a real client.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { exchange, upgradeHead } from "../attacks/wire.ts";
import type { TagStats } from "../fixture/app.ts";
import { caseOn } from "./cannot-apply.ts";
import { type Client, eventually, open } from "./client.ts";
import { defineCompression } from "./compression.ts";
import { defineFaults } from "./faults.ts";
import { defineFlow } from "./flow.ts";
import { defineHandshake } from "./handshake.ts";
import { type FixtureServer, type MatrixRuntime, startServer } from "./server.ts";

export function defineMatrix(runtime: MatrixRuntime): void {
  const it = caseOn(runtime);
  describe(`on ${runtime}`, () => {
    let server: FixtureServer;
    beforeAll(async () => {
      server = await startServer(runtime);
    });
    afterAll(async () => {
      await server?.kill();
      if (process.env.FIXTURE_LOG) console.log(server?.output());
    });

    const tagged = (path: string) => {
      const tag = randomUUID();
      return { tag, url: `${server.ws}${path}${path.includes("?") ? "&" : "?"}tag=${tag}` };
    };
    const stats = async (tag: string): Promise<TagStats> =>
      (await fetch(`${server.http}/stats?tag=${tag}`)).json() as Promise<TagStats>;
    const closesReach = (tag: string, count: number) => eventually(async () => (await stats(tag)).closes >= count);

    it("echoes text, including multi-byte UTF-8", async () => {
      const client = await open(tagged("/ws/echo").url);
      expect(await client.ask("hello")).toBe("hello");
      const unicode = "héllo wörld — 你好 — 🚀🎉 — \u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
      expect(await client.ask(unicode)).toBe(unicode);
      client.socket.close();
    });

    it("echoes a 1 MiB binary message byte for byte", async () => {
      const client = await open(tagged("/ws/echo").url);
      const payload = randomBytes(1024 * 1024);
      client.send(payload);
      const [reply] = await client.received(1);
      expect(Buffer.isBuffer(reply)).toBe(true);
      expect((reply as Buffer).equals(payload)).toBe(true);
      client.socket.close();
    });

    it("delivers custom messages from a Subject to every subscribed socket", async () => {
      const first = await open(tagged("/ws/echo").url);
      const second = await open(tagged("/ws/echo").url);
      const value = randomUUID();
      first.send(`sendA:${value}`);
      expect(await first.received(1)).toEqual([`custom:${value}`]);
      expect(await second.received(1)).toEqual([`custom:${value}`]);
      first.socket.close();
      second.socket.close();
    });

    it("delivers custom messages from a timer selector", async () => {
      const client = await open(tagged("/ws/timer").url);
      expect(await client.received(3)).toEqual(["custom:tick 1", "custom:tick 2", "custom:tick 3"]);
      client.socket.close();
    });

    it("replaces the selector: the old one stops delivering, the new one delivers", async () => {
      const client = await open(tagged("/ws/echo").url);
      for (const text of ["switch", "sendA:lost", "sendB:kept", "ping"]) client.send(text);
      expect(await client.received(3)).toEqual(["switched", "custom:kept", "ping"]);
      client.socket.close();
    });

    it("broadcasts frames to every socket that joined a topic, without a handler turn, and drops members on close", async () => {
      const { tag, url } = tagged("/ws/frames");
      const members = async () => (await fetch(`${server.http}/members?tag=${tag}`)).json() as Promise<number>;
      const clients = await Promise.all([open(url), open(url), open(url)]);
      await eventually(async () => (await members()) === 3);
      clients[0]?.send("broadcast:to all");
      clients[1]?.send("broadcastBytes:bytes");
      for (const client of clients) {
        const got = await client.received(2);
        expect(got).toContain("to all");
        expect(got.find((m) => typeof m !== "string")?.toString()).toBe("bytes");
      }
      // The frames reached the sockets without onMessage: the loop's state counts only the commands.
      expect(await clients[2]?.ask("state")).toBe("state:1");
      expect(await clients[2]?.ask("leave")).toBe("left");
      clients[0]?.send("broadcast:after leave");
      expect(await clients[1]?.received(3)).toContain("after leave");
      expect(await clients[2]?.ask("state")).toBe("state:3");
      expect(clients[2]?.messages).not.toContain("after leave");
      expect(await members()).toBe(2);
      clients[0]?.socket.terminate();
      clients[1]?.socket.close(1000);
      await eventually(async () => (await members()) === 0);
      clients[2]?.socket.close(1000);
    });

    it("keeps the order of 1,000 messages through an async handler", async () => {
      const client = await open(tagged("/ws/slow").url);
      const sent = Array.from({ length: 1000 }, (_, i) => `m${i}`);
      for (const text of sent) client.send(text);
      expect(await client.received(1000, 20_000)).toEqual(sent);
      client.socket.close();
    });

    it("runs onClose exactly once after a client close, with the closed notice first", async () => {
      const { tag, url } = tagged("/ws/echo");
      const client = await open(url);
      expect(await client.ask("one")).toBe("one");
      client.socket.close(1000, "done");
      expect((await client.closed).code).toBe(1000);
      await closesReach(tag, 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await stats(tag)).toEqual({ inits: 1, closes: 1, closedNotices: [1000], closeStates: [1] });
    });

    it("runs onClose exactly once after an abrupt TCP disconnect", async () => {
      const { tag, url } = tagged("/ws/echo");
      const client = await open(url);
      expect(await client.ask("one")).toBe("one");
      client.socket.terminate();
      await closesReach(tag, 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await stats(tag)).toEqual({ inits: 1, closes: 1, closedNotices: [1006], closeStates: [1] });
    });

    it("closes with the code and reason of stopConnection, and runs onClose once", async () => {
      const { tag, url } = tagged("/ws/echo");
      const client = await open(url);
      client.send("stop:4000:bye now");
      expect(await client.closed).toEqual({ code: 4000, reason: "bye now" });
      await closesReach(tag, 1);
      expect(await stats(tag)).toEqual({ inits: 1, closes: 1, closedNotices: [], closeStates: [0] });
    });

    it("closes a socket whose handler throws with 1011 and keeps serving the others", async () => {
      const { tag, url } = tagged("/ws/echo");
      const bystander = await open(tagged("/ws/echo").url);
      const client = await open(url);
      expect(await client.ask("fine")).toBe("fine");
      client.send("throw:on purpose");
      expect((await client.closed).code).toBe(1011);
      await closesReach(tag, 1);
      expect(await stats(tag)).toEqual({ inits: 1, closes: 1, closedNotices: [], closeStates: [1] });
      expect(await bystander.ask("still here")).toBe("still here");
      const next = await open(url);
      expect(await next.ask("new socket")).toBe("new socket");
      bystander.socket.close();
      next.socket.close();
    });

    it("answers a refused upgrade with its own status before any socket exists", async () => {
      const { tag, url } = tagged("/ws/guarded");
      await expect(open(url)).rejects.toThrow("HTTP 403");
      expect((await stats(tag)).inits).toBe(0);
      const allowed = await open(`${url}&token=secret`);
      expect(await allowed.ask("in")).toBe("in");
      allowed.socket.close();
    });

    it("upgrades each time when middleware adds headers to the answer (the marker, one per server on Node and Bun)", async () => {
      for (let n = 0; n < 3; n++) {
        const { tag, url } = tagged("/ws/decorated");
        const client = await open(`${url}&n=${n}`);
        expect(await client.ask("in")).toBe("in");
        client.socket.close();
        await closesReach(tag, 1);
      }
    });

    it("shows no request the headers middleware added to another's answer (the marker, one per server on Node and Bun)", async () => {
      for (const swap of ["", "&swap"]) {
        const { tag, url } = tagged("/ws/decorated");
        const client = await open(`${url}&n=secret${swap}`);
        expect(await client.ask("in")).toBe("in");
        client.socket.close();
        await closesReach(tag, 1);
        const seen = `${server.ws}/ws/answer-headers`;
        // Before, on Bun (the first to lend its marker), a marker whose own header was replaced (?swap) went on to the next request.
        expect(await exchange(seen, upgradeHead(seen), 500)).toMatch(/x-seen: none/i);
      }
    });

    it("answers 426 to a plain GET of a WebSocket endpoint", async () => {
      const response = await fetch(`${server.http}/ws/echo`);
      expect(response.status).toBe(426);
      expect(await response.text()).toMatch(/only accepts WebSocket connections/);
    });

    it("closes with 1009 on a message over maxMessageSize and runs onClose once", async () => {
      const { tag, url } = tagged("/ws/limited");
      const client = await open(url);
      expect(await client.ask("small")).toBe("small");
      client.send("x".repeat(2000));
      expect((await client.closed).code).toBe(1009);
      await closesReach(tag, 1);
      expect(await stats(tag)).toEqual({ inits: 1, closes: 1, closedNotices: [1009], closeStates: [1] });
    });

    it("negotiates a subprotocol and exposes it on the Connection", async () => {
      const client = await open(tagged("/ws/echo").url, ["chat.v1", "other"]);
      expect(client.socket.protocol).toBe("chat.v1");
      expect(await client.ask("protocol")).toBe("protocol:chat.v1");
      client.socket.close();
    });

    it("serves plain HTTP requests through the same fetch handler, streaming bodies", async () => {
      const body = "x".repeat(256 * 1024);
      const response = await fetch(`${server.http}/http/echo`, { method: "POST", body });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-method")).toBe("POST");
      expect(await response.text()).toBe(body);
      expect((await fetch(`${server.http}/nowhere`)).status).toBe(404);
    });

    defineFaults(runtime, () => server);
    defineHandshake(runtime, () => server);
    defineCompression(runtime, () => server);
    defineFlow(runtime, () => server);

    it("closes 500 open sockets with 1001 on server close() and runs each onClose before it resolves", async () => {
      const own = await startServer(runtime);
      try {
        const tag = randomUUID();
        const clients: Client[] = [];
        for (let batch = 0; batch < 5; batch++) {
          clients.push(...(await Promise.all(Array.from({ length: 100 }, () => open(`${own.ws}/ws/echo?tag=${tag}`)))));
        }
        await Promise.all(clients.map(async (client) => expect(await client.ask("hi")).toBe("hi")));
        await fetch(`${own.http}/shutdown`);
        for (const client of clients) expect((await client.closed).code).toBe(1001);
        expect(await own.exited).toBe(0);
        const closed = /CLOSED (.*)/.exec(own.output());
        const final = JSON.parse(closed?.[1] ?? "{}") as Record<string, TagStats>;
        expect(final[tag]).toEqual({
          inits: 500,
          closes: 500,
          closedNotices: Array(500).fill(1001),
          closeStates: Array(500).fill(1),
        });
      } finally {
        await own.kill();
      }
    });
  });
}
