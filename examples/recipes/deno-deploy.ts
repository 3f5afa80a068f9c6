// Deno Deploy (and `deno serve`): the default export's fetch is the whole server.
import { createDenoHandler } from "../../src/adapters/deno.ts"; // "wsloop/deno"
import { echo } from "./echo.ts";

function app(request: Request): Response {
  const { pathname } = new URL(request.url);
  if (pathname === "/ws") return echo(request);
  return new Response("Hello from Deno Deploy");
}

export default { fetch: createDenoHandler(app) };
