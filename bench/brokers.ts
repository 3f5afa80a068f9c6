// Throughput and latency of the brokers: memory (plain and replaying topics), Redis pub/sub
// (createRedisBroker) and Redis Streams (createRedisStreamBroker, plain and replaying topics; on a
// Redis without persistence and on one with appendfsync always, which its kill -9 guarantee needs).
// Publisher and subscriber are two broker instances in this process, on a redis-server started here
// (or REDIS_URL). Usage: npm run bench:brokers [-- --quick]
import { type Broker, createMemoryBroker, type Payload, type TopicEvent } from "../src/index.ts";
import { createRedisBroker, createRedisStreamBroker } from "../src/redis.ts";
import { startRedis } from "../test/redis/redis-server.ts";

const quick = process.argv.includes("--quick");
const MESSAGES = quick ? 2_000 : 20_000;
const SAMPLES = quick ? 200 : 2_000;
const ROUNDS = 3;
// A burst waits in Redis' queue: the bench measures how fast it drains, not publishTimeout.
const quiet = { onError: () => {}, publishTimeout: 120_000 };

interface Case {
  name: string;
  /** Two brokers on the same store: one publishes, the other subscribes. */
  open(): Promise<[Broker, Broker]>;
  /** Subscribes `deliver` to `topic` on `broker`, the way this case reads. */
  subscribe(broker: Broker, topic: string, deliver: () => void): () => void;
}

const plain = (broker: Broker, topic: string, deliver: () => void) => broker.topic(topic).subscribe(deliver);
const replaying = (broker: Broker, topic: string, deliver: () => void) =>
  (broker as Broker & { topic(name: string, options: object): { subscribe(f: (e: TopicEvent) => void): () => void } })
    .topic(topic, {})
    .subscribe(deliver);

/** Publishes MESSAGES without waiting for each; returns messages per second until the last arrived. */
async function throughput(test: Case, round: number): Promise<number> {
  const [publisher, subscriber] = await test.open();
  const topic = `bench:${round}:${Math.random()}`;
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const stop = test.subscribe(subscriber, topic, () => {
    if (++received === MESSAGES) done();
  });
  await settle();
  const payload: Payload = "x".repeat(64);
  const start = performance.now();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < MESSAGES; i++) sent.push(publisher.publish(topic, payload));
  await Promise.all(sent);
  await finished;
  const ms = performance.now() - start;
  stop();
  await Promise.all([publisher.close(), subscriber.close()]);
  return MESSAGES / (ms / 1000);
}

/** One publish at a time, each waited for at the subscriber: publish-to-delivery times in microseconds. */
async function latency(test: Case): Promise<number[]> {
  const [publisher, subscriber] = await test.open();
  const topic = `bench:latency:${Math.random()}`;
  let arrived: (() => void) | undefined;
  const stop = test.subscribe(subscriber, topic, () => arrived?.());
  await settle();
  const times: number[] = [];
  const sent: Promise<void>[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      arrived = resolve;
      sent.push(publisher.publish(topic, "ping"));
    });
    times.push((performance.now() - start) * 1000);
  }
  await Promise.all(sent);
  stop();
  await Promise.all([publisher.close(), subscriber.close()]);
  return times.sort((a, b) => a - b);
}

/** Lets subscriptions reach Redis before the clock starts. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

const plainRedis = process.env.REDIS_URL ? { url: process.env.REDIS_URL, stop: async () => {} } : await startRedis();
// Its AOF is fsynced before each reply.
const aofRedis = await startRedis({ persistent: true });
const two = <B extends Broker>(make: () => Promise<B>) => Promise.all([make(), make()]) as Promise<[B, B]>;
const sharedMemory = () => {
  const broker = createMemoryBroker({ retention: { maxLength: 10_000 } });
  // One broker in memory: publisher and subscriber are the same instance (closing it twice is fine).
  return Promise.resolve([broker, broker] as [Broker, Broker]);
};

const cases: Case[] = [
  { name: "memory, topic(name)", open: sharedMemory, subscribe: plain },
  { name: "memory, topic(name, {})", open: sharedMemory, subscribe: replaying },
  {
    name: "Redis pub/sub, topic(name)",
    open: () => two(() => createRedisBroker({ url: plainRedis.url, ...quiet })),
    subscribe: plain,
  },
  {
    name: "Redis Streams, topic(name)",
    open: () => two(() => createRedisStreamBroker({ url: plainRedis.url, ...quiet })),
    subscribe: plain,
  },
  {
    name: "Redis Streams, topic(name, {})",
    open: () => two(() => createRedisStreamBroker({ url: plainRedis.url, ...quiet })),
    subscribe: replaying,
  },
  {
    name: "Redis Streams, AOF always",
    open: () => two(() => createRedisStreamBroker({ url: aofRedis.url, ...quiet })),
    subscribe: replaying,
  },
];

const runtime = "Bun" in globalThis ? "Bun" : "Deno" in globalThis ? "Deno" : `Node ${process.versions.node}`;
console.log(
  `brokers on ${runtime}: ${MESSAGES} messages of 64 bytes per round (${ROUNDS} rounds, median), ${SAMPLES} one-at-a-time latencies\n`,
);
console.log("| broker | throughput (msg/s, median, min–max) | latency p50 | p99 |");
console.log("| --- | ---: | ---: | ---: |");
for (const test of cases) {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) rates.push(await throughput(test, round));
  rates.sort((a, b) => a - b);
  const times = await latency(test);
  const us = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${Math.round(value)} µs`);
  console.log(
    `| ${test.name} | ${Math.round(rates[1] as number).toLocaleString("en")} (${Math.round(rates[0] as number).toLocaleString("en")}–${Math.round(rates[2] as number).toLocaleString("en")}) | ${us(quantile(times, 0.5))} | ${us(quantile(times, 0.99))} |`,
  );
}
await Promise.all([plainRedis.stop(), aofRedis.stop()]);
process.exit(0);
