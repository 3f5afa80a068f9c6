// The one marker Response a Bun server lends its upgrade requests (createBunHandlers, with a fake
// Bun server: the adapter needs only requestIP and upgrade of it).
import type { Server as BunServer } from "bun";
import { describe, expect, it } from "vitest";
import { createBunHandlers } from "../../src/adapters/bun.ts";
import { continueConnection, upgradeWebSocket } from "../../src/index.ts";
import { upgradeRequest } from "../../src/testing.ts";

const handlers = {
  dependencies: null,
  onInit: (): [number] => [0],
  onMessage: (s: number) => continueConnection(s),
  onClose: () => {},
};

/** A Bun server as the adapter sees it; `upgraded` holds the 101 headers of each upgrade. */
function fakeServer() {
  const upgraded: Array<{ url: string; headers: Headers }> = [];
  const server = {
    requestIP: () => ({ address: "127.0.0.1", port: 40000, family: "IPv4" }),
    upgrade(request: Request, options: { headers?: HeadersInit }) {
      upgraded.push({ url: request.url, headers: new Headers(options.headers) });
      return true;
    },
    publish: () => 0,
  };
  return { server: server as unknown as BunServer<unknown>, upgraded };
}

describe("review: Bun's shared upgrade marker", () => {
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
    const bun = createBunHandlers(app);
    const { server } = fakeServer();
    const alice = bun.fetch(upgradeRequest("http://localhost/ws?user=alice"), server);
    const bob = bun.fetch(upgradeRequest("http://localhost/ws?user=bob"), server);
    while (gates.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    for (const open of gates) open();
    await alice;
    const refused = (await bob) as Response;
    expect(refused.status).toBe(403);
    // Node and Deno: bob's answer is a marker of its own. Before the fix, on Bun: alice's cookie.
    expect(refused.headers.get("set-cookie")).toBeNull();
    await bun.close();
  });

  it("upgrades with the options of the answer the app returns when it called upgradeWebSocket twice", async () => {
    const app = (request: Request): Response => {
      const chat = upgradeWebSocket(request, { ...handlers, headers: { "x-endpoint": "chat" } });
      // A second endpoint tried on the same request, its answer not used.
      upgradeWebSocket(request, { ...handlers, headers: { "x-endpoint": "admin" } });
      return chat;
    };
    const bun = createBunHandlers(app);
    const { server, upgraded } = fakeServer();
    expect(await bun.fetch(upgradeRequest("http://localhost/ws"), server)).toBeUndefined();
    // Node and Deno: the first answer's upgrade (its own marker). Before the fix, on Bun: the second's.
    expect(upgraded.map(({ headers }) => headers.get("x-endpoint"))).toEqual(["chat"]);
    await bun.close();
  });
});
