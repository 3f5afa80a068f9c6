// The one marker Response a Node server lends its upgrade requests (as Bun's, see
// test/unit/review-bun-marker.test.ts), over the wire: middleware headers stay with their request,
// and the answer the app returns decides the upgrade.
import { afterEach, describe, expect, it } from "vitest";
import { type Server, serve } from "../../src/adapters/node.ts";
import { continueConnection, upgradeWebSocket } from "../../src/index.ts";
import { exchange, statusLine, upgradeHead } from "../attacks/wire.ts";

const handlers = {
  dependencies: null,
  onInit: (): [number] => [0],
  onMessage: (s: number) => continueConnection(s),
  onClose: () => {},
};

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("Node's shared upgrade marker", () => {
  it("does not hand one request's middleware headers to another request in flight at the same time", async () => {
    const gates: Array<() => void> = [];
    const app = async (request: Request): Promise<Response> => {
      const user = new URL(request.url).searchParams.get("user");
      const answer = upgradeWebSocket(request, handlers);
      // Session middleware: the answer carries this user's cookie.
      if (user === "alice") answer.headers.append("set-cookie", "session=alice-secret");
      await new Promise<void>((resolve) => gates.push(resolve));
      // Middleware that refuses after the handler, keeping the headers set so far (Hono's c.res = ...).
      if (user === "bob") return new Response("denied", { status: 403, headers: answer.headers });
      return answer;
    };
    server = await serve({ fetch: app, port: 0, hostname: "127.0.0.1" });
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const alice = exchange(`${url}?user=alice`, upgradeHead(`${url}?user=alice`), 2_000);
    const bob = exchange(`${url}?user=bob`, upgradeHead(`${url}?user=bob`), 2_000);
    while (gates.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const open of gates) open();
    expect(statusLine(await alice)).toMatch(/^HTTP\/1\.1 101/);
    const refused = await bob;
    expect(statusLine(refused)).toMatch(/^HTTP\/1\.1 403/);
    expect(refused).not.toMatch(/alice-secret/);
  });

  it("upgrades with the options of the answer the app returns when it called upgradeWebSocket twice", async () => {
    const app = (request: Request): Response => {
      const chat = upgradeWebSocket(request, { ...handlers, headers: { "x-endpoint": "chat" } });
      // A second endpoint tried on the same request, its answer not used.
      upgradeWebSocket(request, { ...handlers, headers: { "x-endpoint": "admin" } });
      return chat;
    };
    server = await serve({ fetch: app, port: 0, hostname: "127.0.0.1" });
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const answer = await exchange(url, upgradeHead(url), 1_000);
    expect(statusLine(answer)).toMatch(/^HTTP\/1\.1 101/);
    expect(answer).toMatch(/x-endpoint: chat/i);
    expect(answer).not.toMatch(/x-endpoint: admin/i);
  });
});
