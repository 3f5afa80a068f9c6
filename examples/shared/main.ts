// Starting the examples' server, the same on every runtime: each examples/RUNTIME/server.ts passes
// its adapter's `serve`, the one line that differs.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { ServeOptions, Server } from "../../src/adapters/types.ts";
import { createApp, drainFromEnv, portFromEnv } from "./app.ts";
import { brokerFromEnv } from "./broker.ts";

/**
 * The chat page's scripts: its own, and wsloop/client as the build made it (dist/client.js, one
 * file; `npm ci` builds it through the prepare script). In your project, serve
 * node_modules/wsloop/dist/client.js, or bundle "wsloop/client" with your front end.
 */
async function pageScripts(): Promise<Record<string, string>> {
  // A path string, not a URL: Deno's URL type and @types/node's differ.
  const read = (path: string) => readFile(fileURLToPath(new URL(path, import.meta.url).href), "utf8");
  const scripts: Record<string, string> = { "/chat.js": await read("./chat.js") };
  try {
    scripts["/client.js"] = await read("../../dist/client.js");
  } catch {
    console.warn("dist/client.js is missing: run `npm run build`, or the chat page cannot connect");
  }
  return scripts;
}

/**
 * Serves the app on $PORT until SIGINT or SIGTERM, then closes every socket (1001, spread over
 * $DRAIN seconds so that its clients do not all reconnect elsewhere at once) and exits.
 */
export async function main(serve: (options: ServeOptions) => Promise<Server>): Promise<void> {
  const drain = drainFromEnv(process.env.DRAIN);
  const broker = await brokerFromEnv();
  let server: Server | undefined;
  const app = createApp({ broker, scripts: await pageScripts(), stats: () => server?.stats() });
  server = await serve({ fetch: app, port: portFromEnv(process.env.PORT), maxConnectionsPerIp: 100 });
  console.log(`Chat on ${server.url}`);
  const stop = async () => {
    await server?.close({ drain });
    await broker.close();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop());
}
