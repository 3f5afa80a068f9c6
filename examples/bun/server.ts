import { serve } from "../../src/adapters/bun.ts"; // in your project: "wsloop/bun"
import { app, portFromEnv } from "../shared/app.ts";

const server = await serve({ fetch: app, port: portFromEnv(process.env.PORT) });
console.log(`Echo chat on ${server.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void server.close().then(() => process.exit(0)));
