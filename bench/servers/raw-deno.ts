// Raw Deno: Deno.serve and Deno.upgradeWebSocket.
import { counters, countResponse } from "./count.ts";

declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(addr: { port: number }): void },
    handler: (request: Request) => Response,
  ): unknown;
  upgradeWebSocket(request: Request, options?: { idleTimeout?: number }): { socket: WebSocket; response: Response };
  memoryUsage(): { rss: number };
};

const subscribers = new Set<WebSocket>();
Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log(`READY ${port}`) }, (request) => {
  const url = new URL(request.url);
  if (url.pathname === "/rss") return new Response(String(Deno.memoryUsage().rss));
  if (url.pathname === "/count") return countResponse();
  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
  // Counted at the upgrade: an open listener would cost each connection memory the others don't pay.
  counters.opened++;
  const sub = url.search.includes("sub");
  if (sub) subscribers.add(socket);
  socket.onclose = () => {
    counters.closed++;
    if (sub) subscribers.delete(socket);
  };
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => {
    if (event.data === "broadcast") for (const subscriber of subscribers) subscriber.send("news");
    else socket.send(event.data);
  };
  return response;
});
