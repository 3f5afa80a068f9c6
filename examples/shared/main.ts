// Starting the examples' server, the same on every runtime: each examples/RUNTIME/server.ts passes
// its adapter's `serve`, the one line that differs.
import type { ServeOptions, Server } from "../../src/adapters/types.ts";
import { createApp, portFromEnv } from "./app.ts";
import { brokerFromEnv } from "./broker.ts";

/**
 * Serves the app on $PORT until SIGINT or SIGTERM, then closes every socket (1001, spread over
 * $DRAIN seconds so that its clients do not all reconnect elsewhere at once) and exits.
 */
export async function main(serve: (options: ServeOptions) => Promise<Server>): Promise<void> {
  const broker = await brokerFromEnv();
  let server: Server | undefined;
  const app = createApp({ broker, stats: () => server?.stats() });
  server = await serve({ fetch: app, port: portFromEnv(process.env.PORT), maxConnectionsPerIp: 100 });
  console.log(`Chat on ${server.url}`);
  const stop = async () => {
    await server?.close({ drain: Number(process.env.DRAIN ?? 0) });
    await broker.close();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop());
}
