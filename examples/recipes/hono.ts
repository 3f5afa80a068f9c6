// Hono: a route calls upgradeWebSocket with the raw Request; wsloop/node (or /bun, /deno) serves app.fetch.
import { Hono } from "hono";
import { serve } from "../../src/adapters/node.ts"; // "wsloop/node"
import { echo } from "./echo.ts";

const app = new Hono();
app.get("/", (c) => c.text("Hello from Hono"));
app.get("/ws", (c) => echo(c.req.raw));

const server = await serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1" });
console.log(`Listening on ${server.url}`);
