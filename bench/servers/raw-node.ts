// Raw Node: node:http + ws, no crossws, no wsloop. Echo, and broadcast to sockets opened with ?sub.
import { createServer } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";
import { counters, diagnostics, subOf } from "./diagnostics.ts";

const subscribers = new Set<WebSocket>();
const server = createServer((req, res) => {
  const answer = diagnostics(req.url ?? "/");
  if (answer) void answer.text().then((text) => res.end(text));
  else res.writeHead(404).end();
});
const wss = new WebSocketServer({ server });
wss.on("connection", (ws, req) => {
  counters.opened++;
  const sub = subOf(req.url ?? "") !== null;
  if (sub) subscribers.add(ws);
  ws.on("close", () => {
    counters.closed++;
    if (sub) subscribers.delete(ws);
  });
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data.toString() === "broadcast") {
      for (const subscriber of subscribers) subscriber.send("news");
    } else ws.send(data, { binary: isBinary });
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  console.log(`READY ${typeof address === "object" && address ? address.port : 0}`);
});
