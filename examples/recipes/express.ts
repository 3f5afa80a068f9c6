// Express keeps its routes; wsloop/node's attach adds WebSocket upgrades to the same http.Server.
import { createServer } from "node:http";
import express from "express";
import { attach } from "../../src/adapters/node.ts"; // "wsloop/node"
import { echo } from "./echo.ts";

const app = express();
app.get("/", (_req, res) => {
  res.send("Hello from Express");
});

const server = createServer(app);
attach(server, (request) =>
  new URL(request.url).pathname === "/ws" ? echo(request) : new Response("Not Found", { status: 404 }),
);
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  const address = server.address();
  console.log(`Listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : ""}/`);
});
