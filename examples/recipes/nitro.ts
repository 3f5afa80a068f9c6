// Nitro, or any host that upgrades through crossws itself (h3's and srvx's servers with a
// `websocket` option): the route hands wsloop's upgrade over with toCrossws.
import { serve } from "crossws/server"; // what Nitro runs; in a Nitro app, only the route below is yours
import { H3 } from "h3";
import { toCrossws } from "../../src/adapters/crossws.ts"; // "wsloop/crossws"
import { echo } from "./echo.ts";

const app = new H3();
app.get("/", () => "Hello from h3 on a crossws host");
app.get("/ws", (event) => toCrossws(event.req, echo(event.req)));

const server = serve({
  fetch: (request) => app.fetch(request),
  websocket: {},
  port: Number(process.env.PORT ?? 3000),
  hostname: "127.0.0.1",
  silent: true,
});
await server.ready();
console.log(`Listening on ${server.url}`);
