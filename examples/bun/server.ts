import { serve } from "../../src/adapters/bun.ts"; // in your project: "wsloop/bun"
import { createApp, portFromEnv } from "../shared/app.ts";
import { brokerFromEnv } from "../shared/broker.ts";

const broker = await brokerFromEnv();
const server = await serve({ fetch: createApp({ broker }), port: portFromEnv(process.env.PORT) });
console.log(`Chat on ${server.url}`);
const stop = async () => {
  await server.close();
  await broker.close();
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop());
