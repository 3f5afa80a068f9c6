// h3 v2 on wsloop's own server: a route calls upgradeWebSocket with event.req.
import { H3 } from "h3";
import { serve } from "../../src/adapters/node.ts"; // "wsloop/node"
import { echo } from "./echo.ts";

const app = new H3();
app.get("/", () => "Hello from h3");
app.get("/ws", (event) => echo(event.req));

const server = await serve({
  fetch: (request) => app.fetch(request),
  port: Number(process.env.PORT ?? 3000),
  hostname: "127.0.0.1",
});
console.log(`Listening on ${server.url}`);
