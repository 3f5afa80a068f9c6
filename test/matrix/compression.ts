// permessage-deflate (serve's `compression`): off by default; on Node and Bun negotiated with
// clients that offer it, frames compressed both ways; Deno's serve refuses the option.
import { afterAll, beforeAll, describe, expect } from "vitest";
import { caseOn } from "./cannot-apply.ts";
import { type Client, eventually, open } from "./client.ts";
import { type FixtureServer, type MatrixRuntime, type Runtime, startScript } from "./server.ts";

/** A chat-like JSON text that compresses well: 64 KiB. */
const TEXT = JSON.stringify(
  Array.from({ length: 600 }, (_, i) => ({ user: `user${i % 7}`, text: "hello there, how is it going?", at: 1700000000 + i })),
).slice(0, 64 * 1024);

function bytesRead(client: Client): number {
  return (client.socket as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
}

function startCompressed(runtime: Runtime): Promise<FixtureServer> {
  return startScript(runtime, `test/fixture/${runtime}.ts`, /READY (\d+)/, { WSLOOP_COMPRESSION: "1" });
}

export function defineCompression(runtime: MatrixRuntime, server: () => FixtureServer): void {
  const it = caseOn(runtime);
  it("does not negotiate permessage-deflate by default, though the client offers it", async () => {
    const client = await open(`${server().ws}/ws/echo`);
    expect(client.socket.extensions).toBe("");
    expect(await client.ask(TEXT)).toBe(TEXT);
    client.socket.close();
  });

  // workerd negotiates compression itself: wsloop's option is not offered there.
  if (runtime === "cloudflare") return;
  if (runtime === "deno") {
    it("refuses compression at serve with an error that says why (Deno has no permessage-deflate)", async () => {
      await expect(startCompressed(runtime)).rejects.toThrow(/compression \(permessage-deflate\) is not available on Deno/);
    });
    return;
  }

  describe("with compression on", () => {
    let compressed: FixtureServer;
    beforeAll(async () => {
      compressed = await startCompressed(runtime);
    });
    afterAll(async () => {
      await compressed?.kill();
    });

    it("negotiates permessage-deflate and echoes compressed text and bytes", async () => {
      const client = await open(`${compressed.ws}/ws/echo`);
      expect(client.socket.extensions).toMatch(/^permessage-deflate/);
      const before = bytesRead(client);
      expect(await client.ask(TEXT)).toBe(TEXT);
      // The echo came compressed: far fewer bytes on the wire than the text.
      expect(bytesRead(client) - before).toBeLessThan(TEXT.length / 4);
      const bytes = new TextEncoder().encode(TEXT);
      client.send(bytes);
      const [, echoed] = await client.received(2);
      expect(Buffer.compare(echoed as Buffer, Buffer.from(bytes))).toBe(0);
      client.socket.close();
    });

    it("compresses frames broadcast to a topic (publishFrame)", async () => {
      const url = `${compressed.ws}/ws/frames?tag=deflate-${runtime}`;
      const clients = await Promise.all([open(url), open(url)]);
      await eventually(
        async () => ((await (await fetch(`${compressed.http}/members?tag=deflate-${runtime}`)).json()) as number) === 2,
      );
      const before = bytesRead(clients[1] as Client);
      clients[0]?.send(`broadcast:${TEXT}`);
      expect((await clients[1]?.received(1))?.[0]).toBe(TEXT);
      expect(bytesRead(clients[1] as Client) - before).toBeLessThan(TEXT.length / 4);
      for (const client of clients) client.socket.close();
    });

    it("still talks to a client that does not offer compression", async () => {
      const client = await open(`${compressed.ws}/ws/echo`, undefined, { perMessageDeflate: false });
      expect(client.socket.extensions).toBe("");
      expect(await client.ask(TEXT)).toBe(TEXT);
      client.socket.close();
    });
  });
}
