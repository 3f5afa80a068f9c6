// Which Redis client for wsloop/redis: pub/sub round trips through a real redis-server with
// ioredis and node-redis, on whichever runtime runs this file (node --import tsx, bun, deno run -A).
// Usage: REDIS_URL=redis://127.0.0.1:6379 <runtime> bench/redis-clients.ts
import { Redis } from "ioredis"; // npm install --no-save ioredis to run this comparison
import { createClient } from "redis";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const MESSAGES = 20_000;
const ROUNDS = 3;

async function ioredisRound(): Promise<number> {
  const pub = new Redis(url);
  const sub = new Redis(url);
  let received = 0;
  const done = new Promise<void>((resolve) =>
    sub.on("messageBuffer", () => {
      if (++received === MESSAGES) resolve();
    }),
  );
  await sub.subscribe("bench");
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i++) void pub.publish("bench", `message ${i}`);
  await done;
  const ms = performance.now() - start;
  pub.disconnect();
  sub.disconnect();
  return ms;
}

async function nodeRedisRound(): Promise<number> {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  let received = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  await sub.subscribe(
    "bench",
    () => {
      if (++received === MESSAGES) resolveDone();
    },
    true,
  );
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i++) void pub.publish("bench", `message ${i}`);
  await done;
  const ms = performance.now() - start;
  await Promise.all([pub.close(), sub.close()]);
  return ms;
}

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
for (const [name, round] of [
  ["ioredis", ioredisRound],
  ["node-redis", nodeRedisRound],
] as const) {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rates.push(MESSAGES / ((await round()) / 1000));
  rates.sort((a, b) => a - b);
  console.log(
    `${runtime} ${name}: median ${Math.round(rates[1] as number)} msg/s (min ${Math.round(rates[0] as number)}, max ${Math.round(rates[2] as number)})`,
  );
}
process.exit(0);
