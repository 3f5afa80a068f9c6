// Raw Node: node:http + ws, no crossws, no wsloop. Echo, and broadcast to sockets opened with ?sub.
import { createServer } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";
import { counters } from "./count.ts";

const subscribers = new Set<WebSocket>();
const server = createServer((req, res) => {
  if (req.url === "/rss") res.end(String(process.memoryUsage().rss));
  else if (req.url === "/count") res.end(JSON.stringify(counters));
  else res.writeHead(404).end();
});
const wss = new WebSocketServer({ server });
wss.on("connection", (ws, req) => {
  counters.opened++;
  const sub = req.url?.includes("sub");
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
