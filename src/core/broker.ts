import type { Connection } from "./connection.ts";
import { FrameTopics } from "./frames.ts";
import { mapSelector, type Selector } from "./selector.ts";

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
 * A broker within this process: publish hands the payload to every subscriber at once; each
 * connection's loop takes it in its own turn, in publish order.
 *
 * @example
 * ```ts
 * const broker = createMemoryBroker();
 * console.log(broker.subscriberCount("room:lobby"));
 * ```
 */
export interface MemoryBroker extends Broker {
  /** How many subscriptions `topic` has (0 once every connection using it closed). */
  subscriberCount(topic: string): number;
  /** How many sockets joined `topic`. */
  memberCount(topic: string): number;
}

/**
 * Creates the in-process {@link Broker}.
 *
 * @example
 * ```ts
 * const broker = createMemoryBroker();
 * const app = (request: Request) => upgradeWebSocket(request, { dependencies: { broker }, onInit, onMessage, onClose });
 * ```
 */
export function createMemoryBroker(): MemoryBroker {
  const topics = new Topics();
  const frames = new FrameTopics();
  let closed = false;
  const refuse = () => Promise.reject(new Error("wsloop: publish on a closed broker"));
  return {
    publish(topic, payload) {
      if (closed) return refuse();
      topics.deliver(topic, payload);
      return Promise.resolve();
    },
    publishFrame(topic, payload) {
      if (closed) return refuse();
      frames.deliver(topic, payload);
      return Promise.resolve();
    },
    topic: <T>(name: string, decode?: (payload: Payload) => T) => topicSelector(topics, name, decode),
    join: (connection, topic) => frames.join(connection, topic),
    leave: (connection, topic) => frames.leave(connection, topic),
    subscriberCount: (topic) => topics.count(topic),
    memberCount: (topic) => frames.count(topic),
    async close() {
      closed = true;
    },
  } as MemoryBroker;
}
