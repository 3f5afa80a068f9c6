// Every recipe of README's "Recipes", run as its own server: its framework answers plain HTTP,
// wsloop answers the WebSocket at /ws.
import { describe, expect, it } from "vitest";
import { open } from "../matrix/client.ts";
import { type Launcher, startScript } from "../matrix/server.ts";

// Plain GET /ws: 426 from wsloop, except where the framework keeps plain requests (Express: 404).
const recipes: [name: string, launcher: Launcher, script: string, greeting: string, plainWs?: number][] = [
  ["Hono on wsloop/node", "node", "examples/recipes/hono.ts", "Hello from Hono"],
  ["Hono on wsloop/bun", "bun", "examples/recipes/hono-bun.ts", "Hello from Hono"],
  ["h3 on wsloop/node", "node", "examples/recipes/h3.ts", "Hello from h3"],
  [
    "h3 on crossws/server through wsloop/crossws, on Node",
    "node",
    "examples/recipes/crossws-server.ts",
    "Hello from h3 on a crossws host",
  ],
  [
    "h3 on crossws/server through wsloop/crossws, on Bun",
    "bun",
    "examples/recipes/crossws-server.ts",
    "Hello from h3 on a crossws host",
  ],
  [
    "h3 on crossws/server through wsloop/crossws, on Deno",
    "deno",
    "examples/recipes/crossws-server.ts",
    "Hello from h3 on a crossws host",
  ],
  ["an Express app's server with wsloop/node attach", "node", "examples/recipes/express.ts", "Hello from Express", 404],
  ["Deno Deploy's export default { fetch }", "deno serve", "examples/recipes/deno-deploy.ts", "Hello from Deno Deploy"],
  ["Bun with its own Bun.serve", "bun", "examples/recipes/bun-serve.ts", "Hello from Bun.serve"],
];

describe.each(recipes)("%s", (_name, launcher, script, greeting, plainWs = 426) => {
  it("serves the framework's routes and a wsloop socket at /ws", async () => {
    const server = await startScript(launcher, script, /Listening on http:\/\/\S+:(\d+)\//);
    try {
      const response = await fetch(`${server.http}/`);
      expect(await response.text()).toBe(greeting);
      const client = await open(`${server.ws}/ws`);
      expect(await client.ask("hi")).toBe("echo: hi");
      expect(await client.ask("héllo")).toBe("echo: héllo");
      client.socket.close(1000);
      expect((await client.closed).code).toBe(1000);
      expect((await fetch(`${server.http}/ws`)).status).toBe(plainWs);
    } finally {
      await server.kill();
    }
  });
});
