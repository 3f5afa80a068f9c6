/**
 * Redis, for several wsloop processes (on any runtime) sharing topics: `createRedisBroker`, a
 * {@link Broker} on Redis pub/sub (fastest, stores nothing); `createRedisStreamBroker`, a replayable
 * broker on Redis Streams (ids, replay from an id, one order everywhere, a bounded buffer while
 * Redis is away); `createRedisPresence`, who is connected where across instances.
 *
 * @example
 * ```ts
 * import { createRedisBroker, createRedisPresence, createRedisStreamBroker } from "wsloop/redis";
 * const broker = await createRedisBroker({ url: process.env.REDIS_URL });
 * const history = await createRedisStreamBroker({ url: process.env.REDIS_URL, retention: { maxLength: 1000 } });
 * const presence = await createRedisPresence<{ name: string }>({ url: process.env.REDIS_URL });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { createClient } from "redis";
import { type Broker, type Payload, Topics, topicSelector } from "./core/broker.ts";
import { FrameTopics } from "./core/frames.ts";
import { guardOnError } from "./core/report.ts";
import { connectWithin, logRedisError, milliseconds, redacted } from "./redis-common.ts";

export type { Broker, Payload, ReplayBroker } from "./core/broker.ts";
export type { ReplayOptions, Retention, TopicEvent } from "./core/stream.ts";
export { PublishError } from "./core/stream.ts";
export type {
  Presence,
  PresenceDiff,
  PresenceMeta,
  PresenceState,
  RedisPresence,
  RedisPresenceOptions,
} from "./redis-presence.ts";
export { createRedisPresence } from "./redis-presence.ts";
export type { RedisStreamBroker, RedisStreamBrokerOptions } from "./redis-streams.ts";
export { createRedisStreamBroker } from "./redis-streams.ts";

/**
 * Options of {@link createRedisBroker}.
 *
 * @example
 * ```ts
 * await createRedisBroker({ url: "redis://redis.internal:6379", prefix: "chat:" });
 * ```
 */
export interface RedisBrokerOptions {
  /** Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * Starts every channel name (default `wsloop:`). A topic's channels are `PREFIX t:TOPIC` for
   * `publish` of text and `PREFIX tb:TOPIC` of bytes, `PREFIX f:TOPIC` and `PREFIX fb:TOPIC` for
   * `publishFrame`. A message is its payload as published, so any Redis client can publish to a
   * topic: `PUBLISH wsloop:t:room:lobby hello` reaches `broker.topic("room:lobby")` as "hello".
   */
  prefix?: string;
  /** Connection errors; the clients reconnect and resubscribe by themselves. Default: console.error. */
  onError?: (error: unknown) => void;
  /**
   * Milliseconds `createRedisBroker` waits for both connections (default 5000): past it, it rejects
   * with the last connection error rather than retrying forever.
   */
  connectTimeout?: number;
  /**
   * Milliseconds a publish waits for Redis to answer (default 5000) before it rejects (the message
   * may still arrive). While a connection is down, publishes reject at once instead of waiting.
   */
  publishTimeout?: number;
}

/**
 * A Redis broker: also reports how many local subscriptions a topic has.
 *
 * @example
 * ```ts
 * const broker = await createRedisBroker({ url: process.env.REDIS_URL });
 * console.log(broker.subscriberCount("room:lobby"));
 * ```
 */
export interface RedisBroker extends Broker {
  /** How many local subscriptions `topic` has. */
  subscriberCount(topic: string): number;
  /** How many local sockets joined `topic`. */
  memberCount(topic: string): number;
}

/**
 * Connects a publisher and a subscriber client to Redis. A topic is subscribed in Redis while at
 * least one local connection listens to it. Messages published by one process reach the
 * subscribers of every process, in publish order.
 *
 * @example
 * ```ts
 * const broker = await createRedisBroker({ url: process.env.REDIS_URL });
 * const app = (request: Request) => upgradeWebSocket(request, { dependencies: { broker }, onInit, onMessage, onClose });
 * ```
 */
export async function createRedisBroker(options: RedisBrokerOptions = {}): Promise<RedisBroker> {
  const prefix = options.prefix ?? "wsloop:";
  const url = options.url ?? "redis://127.0.0.1:6379";
  const onError = guardOnError(options.onError, logRedisError);
  const connectTimeout = milliseconds("connectTimeout", options.connectTimeout, 5000);
  const publishTimeout = milliseconds("publishTimeout", options.publishTimeout, 5000);
  // Named, so CLIENT LIST tells wsloop's connections apart. No offline queue for publishes: one
  // queued while Redis is away would wait, then go out before the subscribers are back, and be lost
  // although it resolved. It rejects at once instead; the app can tell its user.
  // No node-redis command timeout on it either (5 s by default, an AbortSignal per command, which
  // halved throughput): publishTimeout bounds each publish.
  const publisher = createClient({
    url,
    name: "wsloop",
    disableOfflineQueue: true,
    socket: { connectTimeout },
    commandOptions: { timeout: 0 },
  });
  // The subscriber keeps its queue: a subscription made while Redis is away waits for it.
  const subscriber = createClient({ url, name: "wsloop", socket: { connectTimeout } });
  let lastError: unknown;
  const reportError = (error: unknown) => {
    lastError = error;
    onError(error);
  };
  // Without a listener, node-redis turns a dropped connection into an uncaught error.
  publisher.on("error", reportError);
  subscriber.on("error", reportError);
  await connectWithin([publisher, subscriber], connectTimeout, () => {
    const cause = lastError instanceof Error ? `: ${lastError.message}` : "";
    return new Error(`wsloop/redis: could not connect to ${redacted(url)} within ${connectTimeout} ms${cause}`, {
      cause: lastError,
    });
  });

  // Redis keeps no type: text and bytes of one topic go on two channels, each message exactly its
  // payload, so other publishers need no wsloop framing. One subscriber connection receives both
  // channels in publish order, so a topic's text and bytes stay in order too.
  const topicChannels = new Channels(`${prefix}t:`, `${prefix}tb:`);
  const frameChannels = new Channels(`${prefix}f:`, `${prefix}fb:`);
  const onTopic = (message: Buffer, channel: Buffer): void => {
    const [topic, payload] = topicChannels.read(message, channel);
    topics.deliver(topic, payload);
  };
  const onFrame = (message: Buffer, channel: Buffer): void => {
    const [topic, payload] = frameChannels.read(message, channel);
    frames.deliver(topic, payload);
  };

  // Subscriptions on their way to Redis: a publish waits for them, so a subscription made before
  // a publish in this process sees it. Publishes that had to wait stay in order behind each other.
  const subscribing = new Set<Promise<unknown>>();
  let waiting = 0;
  let tail: Promise<unknown> = Promise.resolve();
  const track = (operation: Promise<unknown>) => {
    const settled = operation.catch(onError);
    subscribing.add(settled);
    void settled.then(() => subscribing.delete(settled));
  };

  let closed = false;
  // After close, a topic still subscribes locally (a loop may open one late) but never reaches
  // Redis: a closed node-redis client queues the command and never settles it.
  const topics = new Topics({
    first: (topic) => {
      if (!closed) track(subscriber.subscribe(topicChannels.both(topic), onTopic, true));
    },
    last: (topic) => {
      if (!closed) track(subscriber.unsubscribe(topicChannels.both(topic), onTopic, true));
    },
  });
  const frames = new FrameTopics({
    first: (topic) => {
      if (!closed) track(subscriber.subscribe(frameChannels.both(topic), onFrame, true));
    },
    last: (topic) => {
      if (!closed) track(subscriber.unsubscribe(frameChannels.both(topic), onFrame, true));
    },
  });

  /** Why a publish cannot go out now, if it cannot. */
  const unavailable = (): string | undefined => {
    if (closed) return "the broker is closed";
    // The subscriber too: a message published while it resubscribes would miss this process.
    if (!publisher.isReady || !subscriber.isReady) return "Redis is unreachable, reconnecting";
    return undefined;
  };
  const failure = (topic: string, why: string, cause?: unknown) =>
    new Error(`wsloop/redis: could not publish to topic ${JSON.stringify(topic)}: ${why}`, { cause });
  const send = (topic: string, channel: string, message: string | Buffer): Promise<void> => {
    const why = unavailable();
    if (why) return Promise.reject(failure(topic, why));
    // node-redis times out only commands still waiting to be written; one that Redis (or a dead
    // network path) never answers would wait forever without this.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(failure(topic, `Redis did not answer within ${publishTimeout} ms`)), publishTimeout);
    });
    const published = publisher.publish(channel, message).then(
      () => {},
      (error: unknown) => {
        throw failure(topic, `Redis ${error instanceof Error && error.message ? error.message : "refused it"}`, error);
      },
    );
    return Promise.race([published, timeout]).finally(() => clearTimeout(timer));
  };

  function publish(channels: Channels, topic: string, payload: Payload): Promise<void> {
    const channel = channels.of(topic, payload);
    const message = typeof payload === "string" ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (subscribing.size === 0 && waiting === 0) return send(topic, channel, message);
    waiting++;
    const sent = Promise.all([tail, ...subscribing])
      .then(() => send(topic, channel, message))
      .finally(() => waiting--);
    tail = sent.catch(() => {});
    return sent;
  }

  return {
    publish: (topic, payload) => publish(topicChannels, topic, payload),
    publishFrame: (topic, payload) => publish(frameChannels, topic, payload),
    join: (connection, topic) => frames.join(connection, topic),
    leave: (connection, topic) => frames.leave(connection, topic),
    memberCount: (topic) => frames.count(topic),
    topic: <T>(name: string, decode?: (payload: Payload) => T) => topicSelector(topics, name, decode),
    subscriberCount: (topic) => topics.count(topic),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  } as RedisBroker;
}

/** The text and the binary channel of each topic of one kind (publish, or publishFrame). */
class Channels {
  constructor(
    readonly text: string,
    readonly binary: string,
  ) {}

  both(topic: string): string[] {
    return [this.text + topic, this.binary + topic];
  }

  of(topic: string, payload: Payload): string {
    return (typeof payload === "string" ? this.text : this.binary) + topic;
  }

  /** The topic and payload of a message that arrived on one of these channels. */
  read(message: Buffer, channel: Buffer): [string, Payload] {
    const name = channel.toString("utf8");
    // Neither prefix starts the other ("t:" and "tb:"), so one test tells them apart.
    if (name.startsWith(this.binary)) {
      return [name.slice(this.binary.length), new Uint8Array(message.buffer, message.byteOffset, message.byteLength)];
    }
    return [name.slice(this.text.length), message.toString("utf8")];
  }
}
