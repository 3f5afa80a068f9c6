// A host that upgrades through crossws itself: crossws's own server (`crossws/server`, srvx with
// crossws's WebSocket plugin) running an h3 app. The route hands wsloop's upgrade over with
// toCrossws. Nitro upgrades through crossws too, but this recipe runs crossws/server, not Nitro.
import { serve } from "crossws/server";
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
