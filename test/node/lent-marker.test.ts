// The one marker Response a Node server lends its upgrade requests (as Bun's, see
// test/unit/review-bun-marker.test.ts), over the wire: middleware headers stay with their request,
// and the answer the app returns decides the upgrade.
import { afterEach, describe, expect, it } from "vitest";
import { type Server, serve } from "../../src/adapters/node.ts";
import { exchange, statusLine, upgradeHead } from "../attacks/wire.ts";
import { inFlightApp, lateApp, twiceApp } from "../fixture/marker-apps.ts";

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("Node's shared upgrade marker", () => {
  it("does not hand one request's middleware headers to another request in flight at the same time", async () => {
    const { app, gates } = inFlightApp();
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
    server = await serve({ fetch: twiceApp, port: 0, hostname: "127.0.0.1" });
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const answer = await exchange(url, upgradeHead(url), 1_000);
    expect(statusLine(answer)).toMatch(/^HTTP\/1\.1 101/);
    expect(answer).toMatch(/x-endpoint: chat/i);
    expect(answer).not.toMatch(/x-endpoint: admin/i);
  });

  it("does not lend a marker still held by an app past upgradeTimeout to the next request", async () => {
    server = await serve({ fetch: lateApp(400), port: 0, hostname: "127.0.0.1", upgradeTimeout: 0.2, onError: () => {} });
    const url = `ws://127.0.0.1:${server.port}/ws`;
    expect(statusLine(await exchange(`${url}?user=alice`, upgradeHead(`${url}?user=alice`), 1_000))).toMatch(/^HTTP\/1\.1 503/);
    // Alice's app has now appended her cookie to the answer it still held.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const refused = await exchange(`${url}?user=bob`, upgradeHead(`${url}?user=bob`), 1_000);
    expect(statusLine(refused)).toMatch(/^HTTP\/1\.1 403/);
    expect(refused).not.toMatch(/alice-secret/);
  });
});
