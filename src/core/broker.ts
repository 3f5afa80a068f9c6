import type { Connection } from "./connection.ts";
import { FrameTopics } from "./frames.ts";
import { MemoryStreams } from "./memory-streams.ts";
import { Publishes } from "./publishes.ts";
import { mapSelector, type Selector } from "./selector.ts";
import { utf8Length } from "./size.ts";
import { PublishError, type ReplayOptions, type Retention, retentionOf, type TopicEvent } from "./stream.ts";

/**
 * What travels through a broker: text or bytes, delivered as sent.
 *
 * @example
 * ```ts
 * await broker.publish("news", "text goes out as text");
 * await broker.publish("news", new Uint8Array([1, 2, 3]));
 * ```
 */
export type Payload = string | Uint8Array;

/**
 * Publish/subscribe between connections, in one process ({@link createMemoryBroker}) or across
 * many (`createRedisBroker` from `wsloop/redis`). A topic is an ordinary Selector: merge it, map
 * it, replace it; it is unsubscribed with the socket.
 *
 * @example
 * ```ts
 * function onInit(_c: Connection, deps: Deps): [null, Selector<Payload>] {
 *   return [null, deps.broker.topic("room:lobby")];
 * }
 * // anywhere: await deps.broker.publish("room:lobby", "hello");
 * ```
 */
export interface Broker {
  /**
   * Delivers `payload` to every subscriber of `topic`, in publish order. A subscription this
   * process opened before calling `publish` receives it.
   */
  publish(topic: string, payload: Payload): Promise<void>;
  /** The payloads published to `name` from now on. */
  topic(name: string): Selector<Payload>;
  /** The payloads published to `name`, through `decode` (a throw closes that connection with 1011). */
  topic<T>(name: string, decode: (payload: Payload) => T): Selector<T>;
  /**
   * The fast path for broadcasts: the socket itself joins `topic`, and what {@link publishFrame}
   * sends there goes straight out as a frame, without a turn of its loop (on Bun through Bun's
   * native topics). The socket leaves when it closes.
   */
  join(connection: Connection, topic: string): void;
  /** Undoes {@link join}; nothing happens if the socket is not a member. */
  leave(connection: Connection, topic: string): void;
  /** Sends `payload` as a frame to every socket that joined `topic` (text for a string). */
  publishFrame(topic: string, payload: Payload): Promise<void>;
  /** Releases the broker's connections; later publishes reject. */
  close(): Promise<void>;
}

type Deliver = (payload: Payload) => void;

/** A topic with local subscribers, and the selector that stands for it while it has them. */
interface Subscribed {
  readonly entries: Set<{ deliver: Deliver }>;
  readonly selector: Selector<Payload>;
}

/** Local subscribers by topic. `first` and `last` tell a remote broker when to (un)subscribe upstream. */
export class Topics {
  readonly #topics = new Map<string, Subscribed>();

  constructor(readonly hooks: { first?(topic: string): void; last?(topic: string): void } = {}) {}

  /**
   * The selector of `topic`: the same object while the topic has subscribers, so a handler that
   * returns `continueConnectionWithSelector(state, broker.topic(name))` on every turn keeps its
   * subscription instead of leaving and joining again.
   */
  selector(topic: string): Selector<Payload> {
    const subscribed = this.#topics.get(topic);
    if (subscribed) return subscribed.selector;
    const selector: Selector<Payload> = {
      subscribe: (deliver) => {
        // One entry per subscription, so the same function may subscribe twice and leave once.
        const entry = { deliver };
        let current = this.#topics.get(topic);
        if (!current) {
          current = { entries: new Set(), selector };
          this.#topics.set(topic, current);
          this.hooks.first?.(topic);
        }
        current.entries.add(entry);
        return () => {
          const now = this.#topics.get(topic);
          if (!now?.entries.delete(entry) || now.entries.size > 0) return;
          this.#topics.delete(topic);
          this.hooks.last?.(topic);
        };
      },
    };
    return selector;
  }

  deliver(topic: string, payload: Payload): void {
    const subscribed = this.#topics.get(topic);
    // A snapshot: a subscriber that subscribes again while being delivered to is not delivered to twice.
    if (subscribed) for (const entry of Array.from(subscribed.entries)) entry.deliver(payload);
  }

  /** How many local subscriptions `topic` has. */
  count(topic: string): number {
    return this.#topics.get(topic)?.entries.size ?? 0;
  }
}

/** The `topic` method of a broker, with and without `decode`. */
export function topicSelector<T>(topics: Topics, name: string, decode?: (payload: Payload) => T): Selector<T> {
  const selector = topics.selector(name);
  return decode ? mapSelector(selector, decode) : (selector as Selector<T>);
}

/**
 * A {@link Broker} whose messages have ids and can be replayed: `topic(name, { from })` delivers
 * what was published after `from`, then live messages, as {@link TopicEvent}s, in the one order
 * every subscriber sees, with a gap notice when some of it is no longer retained. The memory
 * broker and `createRedisStreamBroker` (from `wsloop/redis`) are ones.
 *
 * @example
 * ```ts
 * function onInit(connection: Connection, deps: { broker: ReplayBroker }): [null, Selector<TopicEvent>] {
 *   const lastId = new URL(connection.request.url).searchParams.get("lastId") ?? undefined;
 *   return [null, deps.broker.topic("room:lobby", { from: lastId })];
 * }
 * ```
 */
export interface ReplayBroker extends Broker {
  /** The payloads published to `name` from now on. */
  topic(name: string): Selector<Payload>;
  /** The payloads published to `name`, through `decode` (a throw closes that connection with 1011). */
  topic<T>(name: string, decode: (payload: Payload) => T): Selector<T>;
  /**
   * What was published to `name` after `options.from` (when given), then what is published from
   * now on, each with its id; a gap notice where messages are missing. While subscribed, the same
   * `name` and `from` give the same selector, so returning it on every turn keeps the subscription.
   */
  topic(name: string, options: ReplayOptions): Selector<TopicEvent>;
}

/**
 * A broker within this process: publish hands the payload to every subscriber at once; each
 * connection's loop takes it in its own turn, in publish order.
 *
 * @example
 * ```ts
 * const broker = createMemoryBroker();
 * console.log(broker.subscriberCount("room:lobby"));
 * ```
 */
export interface MemoryBroker extends ReplayBroker {
  /** How many subscriptions `topic` has, replaying ones included (0 once every connection using it closed). */
  subscriberCount(topic: string): number;
  /** How many sockets joined `topic`. */
  memberCount(topic: string): number;
  /** How many messages `topic` keeps for replay. */
  retained(topic: string): number;
}

/**
 * Options of {@link createMemoryBroker}. `maxBufferedBytes` and `publishTimeout` matter only in a
 * partition simulated by `createTestBroker` (`wsloop/testing`), where they behave as on Redis.
 *
 * @example
 * ```ts
 * createMemoryBroker({ retention: { maxLength: 1000 } }); // replay up to the last 1,000 messages of each topic
 * ```
 */
export interface MemoryBrokerOptions {
  /** What each topic keeps for replay. Default `{}`: nothing (a replay from an id gets a gap, then live messages). */
  retention?: Retention;
  /** What publishes waiting for an unreachable store may weigh (payload + 256 bytes each). Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Milliseconds a publish may wait for the store before it rejects with `timeout`. Default 5000. */
  publishTimeout?: number;
}

/**
 * Creates the in-process {@link Broker}: replayable, with what `retention` keeps.
 *
 * @example
 * ```ts
 * const broker = createMemoryBroker();
 * const app = (request: Request) => upgradeWebSocket(request, { dependencies: { broker }, onInit, onMessage, onClose });
 * ```
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): MemoryBroker {
  return memoryBroker(options).broker;
}

/** The switches `wsloop/testing` turns on a memory broker. */
export interface MemoryControl {
  /** The store becomes unreachable: publishes wait (bounded, with a timeout), replays wait. */
  partition(): void;
  /** Reachable again: waiting publishes go out in order, waiting replays read. */
  heal(): void;
  /** The store restarts, losing every topic's messages and counts unless `keepData`. */
  restart(keepData: boolean): void;
  readonly partitioned: boolean;
}

type Outgoing = { readonly frame: boolean; readonly topic: string; readonly payload: Payload };

const RESOLVED = Promise.resolve();

/** The memory broker and its switches. */
export function memoryBroker(options: MemoryBrokerOptions): { broker: MemoryBroker; control: MemoryControl } {
  const topics = new Topics();
  const frames = new FrameTopics();
  const streams = new MemoryStreams(retentionOf(options.retention, "createMemoryBroker"));
  const maxBufferedBytes = positive("maxBufferedBytes", options.maxBufferedBytes, 1024 * 1024);
  const publishTimeout = positive("publishTimeout", options.publishTimeout, 5000);
  let publishes: Publishes<Outgoing> | undefined;
  let closed = false;
  const send = (frame: boolean, topic: string, payload: Payload) => {
    if (frame) frames.deliver(topic, payload);
    else {
      streams.record(topic, payload);
      topics.deliver(topic, payload);
    }
  };
  const publish = (frame: boolean, topic: string, payload: Payload): Promise<void> => {
    if (closed) return Promise.reject(new PublishError("closed", topic, "closed broker"));
    if (!streams.partitioned && !publishes?.waiting) {
      send(frame, topic, payload);
      return RESOLVED;
    }
    publishes ??= new Publishes(maxBufferedBytes, publishTimeout);
    const size = typeof payload === "string" ? utf8Length(payload) : payload.byteLength;
    const pending = publishes.start({ frame, topic, payload }, topic, size);
    publishes.buffer(pending);
    return pending.promise;
  };
  const broker = {
    publish: (topic, payload) => publish(false, topic, payload),
    publishFrame: (topic, payload) => publish(true, topic, payload),
    topic: <T>(name: string, second?: ((payload: Payload) => T) | ReplayOptions) =>
      typeof second === "object" && second !== null
        ? streams.selectors.selector(name, second.from)
        : topicSelector(topics, name, second),
    join: (connection, topic) => frames.join(connection, topic),
    leave: (connection, topic) => frames.leave(connection, topic),
    subscriberCount: (topic) => topics.count(topic) + streams.subscribers(topic),
    memberCount: (topic) => frames.count(topic),
    retained: (topic) => streams.retained(topic),
    async close() {
      closed = true;
      streams.close();
      publishes?.failAll((pending) => new PublishError("closed", pending.topic, "closed broker"));
    },
  } as MemoryBroker;
  const control: MemoryControl = {
    partition: () => streams.partition(),
    heal() {
      streams.heal();
      // In publish order; a publish made meanwhile (none can be: delivering runs no handler) would queue behind.
      for (const pending of publishes?.take() ?? []) {
        send(pending.item.frame, pending.item.topic, pending.item.payload);
        pending.done();
      }
    },
    restart: (keepData) => streams.restart(keepData),
    get partitioned() {
      return streams.partitioned;
    },
  };
  return { broker, control };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`createMemoryBroker: ${name} must be a positive number`);
  return value;
}
