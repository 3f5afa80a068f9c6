// The matrix fixture app on the port in $PORT (0: any), on whichever runtime runs this file:
// the client cases kill it and start it again on the same port. Prints `READY port`.
import type { ServeOptions, Server } from "../../src/adapters/types.ts";
import { createApp } from "../fixture/app.ts";

const runtime = globalThis as { Bun?: unknown; Deno?: unknown };
const adapter = runtime.Bun ? "bun" : runtime.Deno ? "deno" : "node";
const { serve } = (await import(`../../src/adapters/${adapter}.ts`)) as { serve: (options: ServeOptions) => Promise<Server> };
const app = createApp({ shutdown: () => {}, serverStats: () => undefined });
const server = await serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" });
console.log(`READY ${server.port}`);
