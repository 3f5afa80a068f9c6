/**
 * A {@link Broker} on Redis pub/sub, for several wsloop processes (on any runtime) sharing topics.
 *
 * @example
 * ```ts
 * import { createRedisBroker } from "wsloop/redis";
 * const broker = await createRedisBroker({ url: process.env.REDIS_URL });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { createClient } from "redis";
import { type Broker, type Payload, Topics, topicSelector } from "./core/broker.ts";
import { FrameTopics } from "./core/frames.ts";

export type { Broker, Payload } from "./core/broker.ts";

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
  /** Starts every channel name (default `wsloop:`): `PREFIX` `t:` topic for publish, `f:` topic for publishFrame. */
  prefix?: string;
  /** Connection errors; the clients reconnect and resubscribe by themselves. Default: console.error. */
  onError?: (error: unknown) => void;
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

// One byte in front of each message says how to hand it back: Redis keeps no type.
const TEXT = 0x74;
const BINARY = 0x62;

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
  const onError = options.onError ?? ((error: unknown) => console.error("[wsloop/redis]", error));
  // Named, so CLIENT LIST tells wsloop's connections apart.
  const publisher = createClient({ url: options.url ?? "redis://127.0.0.1:6379", name: "wsloop" });
  const subscriber = publisher.duplicate();
  // Without a listener, node-redis turns a dropped connection into an uncaught error.
  publisher.on("error", onError);
  subscriber.on("error", onError);
  await Promise.all([publisher.connect(), subscriber.connect()]);

  const topicChannel = `${prefix}t:`;
  const frameChannel = `${prefix}f:`;
  const onTopic = (message: Buffer, channel: Buffer): void => {
    topics.deliver(channel.toString("utf8", topicChannel.length), decodeMessage(message));
  };
  const onFrame = (message: Buffer, channel: Buffer): void => {
    frames.deliver(channel.toString("utf8", frameChannel.length), decodeMessage(message));
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

  const topics = new Topics({
    first: (topic) => track(subscriber.subscribe(topicChannel + topic, onTopic, true)),
    last: (topic) => track(subscriber.unsubscribe(topicChannel + topic, onTopic, true)),
  });
  const frames = new FrameTopics({
    first: (topic) => track(subscriber.subscribe(frameChannel + topic, onFrame, true)),
    last: (topic) => track(subscriber.unsubscribe(frameChannel + topic, onFrame, true)),
  });
  let closed = false;

  function publish(channel: string, payload: Payload): Promise<void> {
    if (closed) return Promise.reject(new Error("wsloop/redis: publish on a closed broker"));
    const message = encodeMessage(payload);
    if (subscribing.size === 0 && waiting === 0) return publisher.publish(channel, message).then(() => {});
    waiting++;
    const sent = Promise.all([tail, ...subscribing])
      .then(() => publisher.publish(channel, message))
      .then(() => {})
      .finally(() => waiting--);
    tail = sent.catch(() => {});
    return sent;
  }

  return {
    publish: (topic, payload) => publish(topicChannel + topic, payload),
    publishFrame: (topic, payload) => publish(frameChannel + topic, payload),
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

function encodeMessage(payload: Payload): Buffer {
  if (typeof payload === "string") {
    const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(payload));
    bytes[0] = TEXT;
    bytes.write(payload, 1, "utf8");
    return bytes;
  }
  const bytes = Buffer.allocUnsafe(1 + payload.byteLength);
  bytes[0] = BINARY;
  bytes.set(payload, 1);
  return bytes;
}

function decodeMessage(message: Buffer): Payload {
  if (message[0] === BINARY) return new Uint8Array(message.buffer, message.byteOffset + 1, message.byteLength - 1);
  return message.toString("utf8", 1);
}
