// Starting the examples' server, the same on every runtime: each examples/RUNTIME/server.ts passes
// its adapter's `serve`, the one line that differs.
import type { ServeOptions, Server } from "../../src/adapters/types.ts";
import { createApp, portFromEnv } from "./app.ts";
import { brokerFromEnv } from "./broker.ts";

/** Serves the app on $PORT until SIGINT or SIGTERM, then closes every socket (1001) and exits. */
export async function main(serve: (options: ServeOptions) => Promise<Server>): Promise<void> {
  const broker = await brokerFromEnv();
  const server = await serve({ fetch: createApp({ broker }), port: portFromEnv(process.env.PORT) });
  console.log(`Chat on ${server.url}`);
  const stop = async () => {
    await server.close();
    await broker.close();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop());
}
