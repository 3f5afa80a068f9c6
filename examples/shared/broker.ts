// The examples' broker: Redis when REDIS_URL is set (several instances share the rooms),
// otherwise in memory.
import { type Broker, createMemoryBroker } from "../../src/index.ts";

export async function brokerFromEnv(url = process.env.REDIS_URL): Promise<Broker> {
  if (!url) return createMemoryBroker();
  const { createRedisBroker } = await import("../../src/redis.ts"); // in your project: "wsloop/redis"
  return createRedisBroker({ url });
}
