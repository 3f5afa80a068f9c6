import { counters, countResponse } from "./count.ts";

// Raw Bun: Bun.serve's own WebSockets. Broadcast through Bun's native topics.
const server = Bun.serve<{ sub: boolean }>({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  fetch(request, server) {
    const url = new URL(request.url);
    if (url.pathname === "/rss") return new Response(String(process.memoryUsage().rss));
    if (url.pathname === "/count") return countResponse();
    if (server.upgrade(request, { data: { sub: url.search.includes("sub") } })) return undefined;
    return new Response("Upgrade Required", { status: 426 });
  },
  websocket: {
    idleTimeout: 0,
    open(ws) {
      counters.opened++;
      if (ws.data.sub) ws.subscribe("all");
    },
    close() {
      counters.closed++;
    },
    message(ws, message) {
      if (message === "broadcast") server.publish("all", "news");
      else ws.send(message);
    },
  },
});
console.log(`READY ${server.port}`);
