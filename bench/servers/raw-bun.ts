import { counters, diagnostics, subOf } from "./diagnostics.ts";

// Raw Bun: Bun.serve's own WebSockets. Broadcast through Bun's native topics.
const server = Bun.serve<{ sub: boolean }>({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  fetch(request, server) {
    const answer = diagnostics(request.url);
    if (answer) return answer;
    if (server.upgrade(request, { data: { sub: subOf(request.url) !== null } })) return undefined;
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
