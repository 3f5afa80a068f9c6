// Hono's upgradeWebSocket on whichever runtime runs this file, as Hono documents it: hono/bun,
// hono/deno, and @hono/node-ws (with @hono/node-server) on Node. Echo, and broadcast to the
// sockets opened with ?sub: Bun's native topics through `ws.raw` (what Hono's Bun users do),
// a Set of the sockets elsewhere (Hono has no pub/sub of its own).
import { Hono } from "hono";
import type { UpgradeWebSocket, WSContext, WSEvents } from "hono/ws";
import { counters, diagnostics } from "./diagnostics.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

interface BunRaw {
  subscribe(topic: string): void;
}
interface BunServerLike {
  publish(topic: string, data: string): number;
}

const app = new Hono();
const subscribers = new Set<WSContext>();
let bunServer: BunServerLike | undefined;

// Hono's router, as its users route.
for (const path of ["/rss", "/cpu", "/count", "/heap", "/snapshot"]) app.get(path, (c) => diagnostics(c.req.url) as Response);

function events(sub: boolean): WSEvents {
  return {
    onOpen(_event, ws) {
      counters.opened++;
      if (!sub) return;
      if (bunServer) (ws.raw as BunRaw).subscribe("all");
      else subscribers.add(ws);
    },
    onMessage(event, ws) {
      if (event.data === "broadcast") {
        if (bunServer) bunServer.publish("all", "news");
        else for (const subscriber of subscribers) subscriber.send("news");
      } else ws.send(event.data as string | ArrayBuffer);
    },
    onClose(_event, ws) {
      counters.closed++;
      if (sub) subscribers.delete(ws);
    },
  };
}

function route(upgradeWebSocket: UpgradeWebSocket) {
  // No keepalive, like the other servers (idleTimeout 0 on Deno; Bun's is set on its websocket).
  app.get(
    "/",
    upgradeWebSocket((c) => events(c.req.query("sub") !== undefined), { idleTimeout: 0 }),
  );
}

if (runtime === "node") {
  const { serve } = await import("@hono/node-server");
  const { createNodeWebSocket } = await import("@hono/node-ws");
  const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app });
  route(upgradeWebSocket as UpgradeWebSocket);
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => console.log(`READY ${info.port}`));
  injectWebSocket(server);
} else if (runtime === "bun") {
  const { upgradeWebSocket, websocket } = await import("hono/bun");
  route(upgradeWebSocket as UpgradeWebSocket);
  const bun = (globalThis as unknown as { Bun: { serve(options: unknown): BunServerLike & { port: number } } }).Bun;
  const server = bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch, websocket: { ...websocket, idleTimeout: 0 } });
  bunServer = server;
  console.log(`READY ${server.port}`);
} else {
  const { upgradeWebSocket } = await import("hono/deno");
  route(upgradeWebSocket as UpgradeWebSocket);
  const deno = (globalThis as unknown as { Deno: { serve: (...args: unknown[]) => unknown } }).Deno;
  deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: ({ port }: { port: number }) => console.log(`READY ${port}`) },
    app.fetch,
  );
}
