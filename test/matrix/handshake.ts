// The handshake on every runtime: the app's headers on the 101, the peer's address, and the client
// address read from X-Forwarded-For only through trusted proxies.

import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { expect } from "vitest";
import { caseOn } from "./cannot-apply.ts";
import { Client, eventually, open, WebSocket } from "./client.ts";
import type { FixtureServer, MatrixRuntime } from "./server.ts";

interface Seen {
  remote: { address: string; port: number } | null;
  client: string | null;
}

/** Opens a socket and keeps the 101 response's headers. */
function openWithResponse(
  url: string,
  headers: Record<string, string> = {},
  protocols: string[] = [],
): Promise<[Client, IncomingMessage]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { headers });
    const client = new Client(socket);
    let response: IncomingMessage | undefined;
    socket.once("upgrade", (res) => {
      response = res;
    });
    socket.once("open", () => resolve([client, response as IncomingMessage]));
    socket.once("unexpected-response", (_request, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once("error", reject);
  });
}

/** The client side's own port, as the server should see it. */
function localPort(client: Client): number {
  return (client.socket as unknown as { _socket: { localPort: number } })._socket.localPort;
}

async function address(client: Client): Promise<Seen> {
  return JSON.parse((await client.ask("address")) as string) as Seen;
}

export function defineHandshake(runtime: MatrixRuntime, server: () => FixtureServer): void {
  const it = caseOn(runtime);
  it("sends the app's headers on the 101, several Set-Cookie included", async () => {
    const [client, response] = await openWithResponse(`${server().ws}/ws/cookie`);
    expect(response.headers["set-cookie"]).toEqual(["session=abc; Path=/; HttpOnly", "theme=dark; Path=/"]);
    expect(response.headers["x-wsloop"]).toBe("handshake");
    expect(await client.ask("after cookies")).toBe("after cookies");
    client.socket.close();
  });

  it("keeps the negotiated subprotocol beside the app's headers", async () => {
    const [client, response] = await openWithResponse(`${server().ws}/ws/cookie`, {}, ["chat.v1"]);
    expect(client.socket.protocol).toBe("chat.v1");
    expect(response.headers["set-cookie"]).toHaveLength(2);
    expect(await client.ask("protocol")).toBe("protocol:chat.v1");
    client.socket.close();
  });

  it("refuses headers the handshake writes itself with a 500, never a silent drop", async () => {
    await expect(open(`${server().ws}/ws/bad-header`)).rejects.toThrow("HTTP 500");
  });

  it("tells the peer's address and port, also once the socket has closed", async () => {
    const tag = randomUUID();
    const client = await open(`${server().ws}/ws/address?tag=${tag}`);
    const port = localPort(client);
    const seen = await address(client);
    expect(seen).toEqual({ remote: { address: "127.0.0.1", port }, client: "127.0.0.1" });
    client.socket.terminate();
    await eventually(async () => ((await (await fetch(`${server().http}/addresses?tag=${tag}`)).json()) as Seen[]).length === 1);
    const [atClose] = (await (await fetch(`${server().http}/addresses?tag=${tag}`)).json()) as Seen[];
    expect(atClose).toEqual(seen);
  });

  it("ignores X-Forwarded-For unless the peer is a trusted proxy", async () => {
    const forwarded = { "x-forwarded-for": "203.0.113.7, 10.1.2.3" };
    const cases: [string, string][] = [
      ["", "127.0.0.1"], // no trustedProxies: the header is anyone's to forge
      ["?trust=192.168.0.0/16", "127.0.0.1"], // the peer is not one of the proxies
      ["?trust=loopback", "10.1.2.3"], // the proxy vouches for the hop before it only
      ["?trust=loopback,10.0.0.0/8", "203.0.113.7"],
      ["?trust=1", "10.1.2.3"], // one hop trusted, whatever its address
      ["?trust=5", "203.0.113.7"], // more hops than entries: the first entry
    ];
    for (const [query, expected] of cases) {
      const [client] = await openWithResponse(`${server().ws}/ws/address${query}`, forwarded);
      const seen = await address(client);
      expect({ query, client: seen.client }).toEqual({ query, client: expected });
      expect(seen.remote?.address).toBe("127.0.0.1");
      client.socket.close();
    }
  });
}
