// Your own Bun.serve: spread wsloop's fetch and websocket handlers into it.
import { createBunHandlers } from "../../src/adapters/bun.ts"; // "wsloop/bun"
import { echo } from "./echo.ts";

function app(request: Request): Response {
  const { pathname } = new URL(request.url);
  if (pathname === "/ws") return echo(request);
  return new Response("Hello from Bun.serve");
}

const { fetch, websocket } = createBunHandlers(app);
const server = Bun.serve({ port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1", fetch, websocket });
console.log(`Listening on ${server.url}`);
