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

/** Local subscribers by topic. `first` and `last` tell a remote broker when to (un)subscribe upstream. */
export class Topics {
  readonly #subscribers = new Map<string, Set<{ deliver: Deliver }>>();

  constructor(readonly hooks: { first?(topic: string): void; last?(topic: string): void } = {}) {}

  selector(topic: string): Selector<Payload> {
    return {
      subscribe: (deliver) => {
        // One entry per subscription, so the same function may subscribe twice and leave once.
        const entry = { deliver };
        let set = this.#subscribers.get(topic);
        if (!set) {
          set = new Set();
          this.#subscribers.set(topic, set);
          this.hooks.first?.(topic);
        }
        set.add(entry);
        return () => {
          const current = this.#subscribers.get(topic);
          if (!current?.delete(entry) || current.size > 0) return;
          this.#subscribers.delete(topic);
          this.hooks.last?.(topic);
        };
      },
    };
  }

  deliver(topic: string, payload: Payload): void {
    const set = this.#subscribers.get(topic);
    if (set) for (const entry of set) entry.deliver(payload);
  }

  /** How many local subscriptions `topic` has. */
  count(topic: string): number {
    return this.#subscribers.get(topic)?.size ?? 0;
  }
}

/** The `topic` method of a broker, with and without `decode`. */
export function topicSelector<T>(topics: Topics, name: string, decode?: (payload: Payload) => T): Selector<T> {
  const selector = topics.selector(name);
  return decode ? mapSelector(selector, decode) : (selector as Selector<T>);
}

/**
 * A broker within this process: publish delivers synchronously to every subscriber.
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
