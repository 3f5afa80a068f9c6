// The one marker Response a Bun server lends its upgrade requests (createBunHandlers, with a fake
// Bun server: the adapter needs only requestIP and upgrade of it).
import type { Server as BunServer } from "bun";
import { describe, expect, it } from "vitest";
import { createBunHandlers } from "../../src/adapters/bun.ts";
import { upgradeRequest } from "../../src/testing.ts";
import { inFlightApp, lateApp, twiceApp } from "../fixture/marker-apps.ts";

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
    const { app, gates } = inFlightApp();
    const bun = createBunHandlers(app);
    const { server } = fakeServer();
    const alice = bun.fetch(upgradeRequest("http://localhost/ws?user=alice"), server);
    const bob = bun.fetch(upgradeRequest("http://localhost/ws?user=bob"), server);
    while (gates.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    for (const open of gates) open();
    await alice;
    const refused = (await bob) as Response;
    expect(refused.status).toBe(403);
    // Deno: bob's answer is a marker of its own (Node lends one too: test/node/lent-marker.test.ts). Before the fix, on Bun: alice's cookie.
    expect(refused.headers.get("set-cookie")).toBeNull();
    await bun.close();
  });

  it("upgrades with the options of the answer the app returns when it called upgradeWebSocket twice", async () => {
    const bun = createBunHandlers(twiceApp);
    const { server, upgraded } = fakeServer();
    expect(await bun.fetch(upgradeRequest("http://localhost/ws"), server)).toBeUndefined();
    // Deno: the first answer's upgrade (its own marker). Before the fix, on Bun: the second's.
    expect(upgraded.map(({ headers }) => headers.get("x-endpoint"))).toEqual(["chat"]);
    await bun.close();
  });

  it("does not lend a marker still held by an app past upgradeTimeout to the next request", async () => {
    const bun = createBunHandlers(lateApp(100), { upgradeTimeout: 0.05 });
    const { server } = fakeServer();
    expect(((await bun.fetch(upgradeRequest("http://localhost/ws?user=alice"), server)) as Response).status).toBe(503);
    // Alice's app has now appended her cookie to the answer it still held.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const refused = (await bun.fetch(upgradeRequest("http://localhost/ws?user=bob"), server)) as Response;
    expect(refused.status).toBe(403);
    // Before, the marker went back to the pool at the timeout: bob's 403 carried alice's cookie.
    expect(refused.headers.get("set-cookie")).toBeNull();
    await bun.close();
  });
});
