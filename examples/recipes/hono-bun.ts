// Hono on Bun: the same app as hono.ts, served by wsloop/bun.
import { Hono } from "hono";
import { serve } from "../../src/adapters/bun.ts"; // "wsloop/bun"
import { echo } from "./echo.ts";

const app = new Hono();
app.get("/", (c) => c.text("Hello from Hono"));
app.get("/ws", (c) => echo(c.req.raw));

const server = await serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1" });
console.log(`Listening on ${server.url}`);
