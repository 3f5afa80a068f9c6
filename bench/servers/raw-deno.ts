// Raw Deno: Deno.serve and Deno.upgradeWebSocket.
import { counters, diagnostics, subOf } from "./diagnostics.ts";

declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(addr: { port: number }): void },
    handler: (request: Request) => Response,
  ): unknown;
  upgradeWebSocket(request: Request, options?: { idleTimeout?: number }): { socket: WebSocket; response: Response };
};

const subscribers = new Set<WebSocket>();
Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log(`READY ${port}`) }, (request) => {
  const answer = diagnostics(request.url);
  if (answer) return answer;
  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
  // Counted at the upgrade: an open listener would cost each connection memory the others don't pay.
  counters.opened++;
  const sub = subOf(request.url) !== null;
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
