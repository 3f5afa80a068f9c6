// createRedisStreamBroker: the replayable broker on Redis Streams (wsloop/redis).
import { type Payload, type ReplayBroker, Topics, topicSelector } from "./core/broker.ts";
import { FrameTopics } from "./core/frames.ts";
import { ReplayHub, ReplaySelectors } from "./core/replay.ts";
import { guardOnError } from "./core/report.ts";
import { type ReplayOptions, type Retention, retentionOf, type StreamId } from "./core/stream.ts";
import { logRedisError, milliseconds } from "./redis-common.ts";
import { StreamStore } from "./redis-stream-store.ts";

/**
 * Options of {@link createRedisStreamBroker}.
 *
 * @example
 * ```ts
 * await createRedisStreamBroker({ url: "redis://redis.internal:6379", retention: { maxLength: 1000, maxAge: 3_600_000 } });
 * ```
 */
export interface RedisStreamBrokerOptions {
  /** Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * Starts every key (default `wsloop:`). Topic `T` is the stream `PREFIX st:T` with the hash
   * `PREFIX mt:T` (its last id and the id of its message 1); `publishFrame` uses `PREFIX sf:T` and `PREFIX mf:T`.
   */
  prefix?: string;
  /**
   * What each topic keeps for replay (default `{ maxLength: 10000 }`). Redis keeps at least
   * `maxLength` (it trims whole blocks of about 100). With `maxAge`, a topic idle that long is
   * deleted. A subscriber that falls further behind than the retention gets a gap notice.
   */
  retention?: Retention;
  /** Connection errors; the clients reconnect by themselves. Default: console.error. */
  onError?: (error: unknown) => void;
  /** Milliseconds `createRedisStreamBroker` waits for Redis (default 5000), then rejects. */
  connectTimeout?: number;
  /**
   * Milliseconds a publish may take (default 5000), waiting for an unreachable Redis included;
   * past it, it rejects with a {@link PublishError} whose reason is `timeout`.
   */
  publishTimeout?: number;
  /**
   * What publishes waiting for an unreachable Redis may weigh, payload + 256 bytes each (default
   * 1 MiB); past it, a publish rejects at once with reason `buffer_full`.
   */
  maxBufferedBytes?: number;
  /** Entries read from Redis at a time, live and in replays (default 1000). */
  readBatch?: number;
}

/**
 * The Redis Streams broker: also reports how many local subscriptions a topic has.
 *
 * @example
 * ```ts
 * const broker = await createRedisStreamBroker({ url: process.env.REDIS_URL });
 * console.log(broker.subscriberCount("room:lobby"));
 * ```
 */
export interface RedisStreamBroker extends ReplayBroker {
  /** How many local subscriptions `topic` has, replaying ones included. */
  subscriberCount(topic: string): number;
  /** How many local sockets joined `topic`. */
  memberCount(topic: string): number;
}

/**
 * A {@link ReplayBroker} on Redis Streams, for several wsloop processes (on any runtime) that must
 * not lose messages: each message is appended to its topic's stream and gets an id; every
 * subscriber on every instance reads the same stream, so all see one order; `topic(name, { from })`
 * replays what a reconnecting client missed. While Redis is unreachable, publishes wait in a
 * bounded buffer and go out in order when it is back, or reject with a typed {@link PublishError}.
 * Uses two connections: commands, and one blocking read for every topic followed here.
 *
 * @example
 * ```ts
 * const broker = await createRedisStreamBroker({ url: process.env.REDIS_URL, retention: { maxLength: 1000 } });
 * const app = (request: Request) => upgradeWebSocket(request, { dependencies: { broker }, onInit, onMessage, onClose });
 * ```
 */
export async function createRedisStreamBroker(options: RedisStreamBrokerOptions = {}): Promise<RedisStreamBroker> {
  const who = "createRedisStreamBroker";
  const prefix = options.prefix ?? "wsloop:";
  const retention = retentionOf(options.retention ?? { maxLength: 10_000 }, who);
  if (retention.maxLength === 0 && retention.maxAge === 0)
    throw new RangeError(`${who}: retention must keep something (maxLength or maxAge): live readers read the stream`);
  const batch = options.readBatch ?? 1000;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`${who}: readBatch must be a whole number ≥ 1`);
  const store = await StreamStore.connect({
    url: options.url ?? "redis://127.0.0.1:6379",
    connectTimeout: milliseconds("connectTimeout", options.connectTimeout, 5000, who),
    publishTimeout: milliseconds("publishTimeout", options.publishTimeout, 5000, who),
    maxBufferedBytes: milliseconds("maxBufferedBytes", options.maxBufferedBytes, 1024 * 1024, who, "bytes"),
    maxLength: retention.maxLength,
    maxAge: retention.maxAge,
    batch,
    onError: guardOnError(options.onError, logRedisError),
  });

  const keys = (topic: string) => ({ stream: `${prefix}st:${topic}`, meta: `${prefix}mt:${topic}` });
  const frameKeys = (topic: string) => ({ stream: `${prefix}sf:${topic}`, meta: `${prefix}mf:${topic}` });
  let closed = false;

  // A topic's stream is read here while it has plain subscribers or replaying ones (or both): one
  // read hands each entry to both.
  const hubs = new Map<string, ReplayHub>();
  const interest = new Map<string, number>();
  const want = (topic: string) => {
    const count = (interest.get(topic) ?? 0) + 1;
    interest.set(topic, count);
    const { stream, meta } = keys(topic);
    if (count === 1 && !closed)
      store.follow(
        stream,
        meta,
        (entry) => {
          hubs.get(topic)?.live(entry);
          topics.deliver(topic, entry.payload);
        },
        (head: StreamId) => hubs.get(topic)?.positioned(head),
      );
  };
  const release = (topic: string) => {
    const count = (interest.get(topic) ?? 1) - 1;
    if (count > 0) interest.set(topic, count);
    else {
      interest.delete(topic);
      store.unfollow(keys(topic).stream);
    }
  };
  const topics = new Topics({ first: want, last: release });
  const selectors = new ReplaySelectors((topic) => {
    let hub = hubs.get(topic);
    if (hub) return hub;
    const { stream, meta } = keys(topic);
    hub = new ReplayHub({ range: (after, count) => store.range(stream, meta, after, count) }, batch, {
      first: () => {
        want(topic);
        const head = store.position(stream);
        if (head) hub?.positioned(head);
      },
      last: () => {
        hubs.delete(topic);
        release(topic);
      },
    });
    hubs.set(topic, hub);
    return hub;
  });
  const frames = new FrameTopics({
    first: (topic) => {
      const { stream, meta } = frameKeys(topic);
      if (!closed)
        store.follow(
          stream,
          meta,
          (entry) => frames.deliver(topic, entry.payload),
          () => {},
        );
    },
    last: (topic) => store.unfollow(frameKeys(topic).stream),
  });

  return {
    publish: (topic: string, payload: Payload) => store.publish(topic, { ...keys(topic), payload }),
    publishFrame: (topic: string, payload: Payload) => store.publish(topic, { ...frameKeys(topic), payload }),
    topic: <T>(name: string, second?: ((payload: Payload) => T) | ReplayOptions) =>
      typeof second === "object" && second !== null ? selectors.selector(name, second.from) : topicSelector(topics, name, second),
    join: (connection, topic) => frames.join(connection, topic),
    leave: (connection, topic) => frames.leave(connection, topic),
    subscriberCount: (topic: string) => topics.count(topic) + (hubs.get(topic)?.size ?? 0),
    memberCount: (topic: string) => frames.count(topic),
    async close() {
      closed = true;
      await store.close();
    },
  } as RedisStreamBroker;
}
