import { type Broker, type Payload, Topics, topicSelector } from "../core/broker.ts";
import { FrameTopics } from "../core/frames.ts";
import { guardOnError } from "../core/report.ts";
import {
  type CloudflareSocket,
  type DurableObjectContext,
  type ListenedSocket,
  switchingProtocols,
  workers,
} from "./cloudflare-types.ts";

/**
 * A Durable Object namespace binding (`env.TOPICS`) whose class is served by
 * {@link createTopicHandler}: one object per topic.
 *
 * @example
 * ```ts
 * const broker = createDurableBroker(env.TOPICS satisfies TopicNamespace);
 * ```
 */
export interface TopicNamespace {
  /** The id of the object named `name` (one per topic). */
  idFromName(name: string): unknown;
  /** The object's stub: wsloop sends it `fetch` requests. */
  get(id: never): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/**
 * Options of {@link createDurableBroker}.
 *
 * @example
 * ```ts
 * createDurableBroker(env.TOPICS, { onError: (error) => console.warn(error) });
 * ```
 */
export interface DurableBrokerOptions {
  /** A topic's connection that dropped (it is made again); default console.error. */
  onError?: (error: unknown) => void;
}

/**
 * The Cloudflare {@link Broker}, with how many local subscriptions and members a topic has.
 *
 * @example
 * ```ts
 * console.log(broker.subscriberCount("room:lobby"));
 * ```
 */
export interface DurableBroker extends Broker {
  /** How many local subscriptions `topic` has. */
  subscriberCount(topic: string): number;
  /** How many local sockets joined `topic`. */
  memberCount(topic: string): number;
}

const ORIGIN = "https://wsloop.topic";

/**
 * A broker across isolates on Durable Objects, one object per topic (and one per topic's frames).
 * `publish` is a request to the topic's object, which sends the payload to every subscribed
 * isolate over a WebSocket it accepted with the hibernation API (so an idle topic costs nothing).
 * Subscribe (`topic`, `join`) from a Durable Object: the object keeps one connection per topic in
 * use, which keeps it in memory (Workers cannot hibernate outgoing WebSockets). A plain Worker may
 * publish, with a broker made in the request.
 *
 * @example
 * ```ts
 * // in a Durable Object's constructor
 * const broker = createDurableBroker(env.TOPICS);
 * this.loops = createDurableHandler(ctx, createApp({ broker }));
 * ```
 */
export function createDurableBroker(namespace: TopicNamespace, options: DurableBrokerOptions = {}): DurableBroker {
  // Guarded: an onError that throws would skip the retry, and leave a rejected subscription every publish waits on.
  const onError = guardOnError(options.onError, (error) => console.error("[wsloop/cloudflare]", error));
  const stub = (name: string) => namespace.get(namespace.idFromName(name) as never);
  let closed = false;
  const upstreams = new Map<string, Upstream>();
  // Subscriptions on their way: a publish waits for them, so a subscriber made before sees it.
  const subscribing = new Set<Promise<unknown>>();

  const channel = (kind: "t" | "f", deliver: (topic: string, payload: Payload) => void) => ({
    first(topic: string) {
      if (closed) return;
      const upstream = new Upstream(
        () => stub(`${kind}:${topic}`),
        (payload) => deliver(topic, payload),
        onError,
      );
      upstreams.set(`${kind}:${topic}`, upstream);
      const connected = upstream.connect();
      subscribing.add(connected);
      void connected.then(() => subscribing.delete(connected));
    },
    last(topic: string) {
      upstreams.get(`${kind}:${topic}`)?.close();
      upstreams.delete(`${kind}:${topic}`);
    },
  });
  const topics: Topics = new Topics(channel("t", (topic, payload) => topics.deliver(topic, payload)));
  const frames: FrameTopics = new FrameTopics(channel("f", (topic, payload) => frames.deliver(topic, payload)));

  // One publish at a time, so the topic objects receive them in publish order.
  let tail: Promise<unknown> = Promise.resolve();
  const publish = (name: string, topic: string, payload: Payload): Promise<void> => {
    if (closed)
      return Promise.reject(
        new Error(`wsloop/cloudflare: could not publish to topic ${JSON.stringify(topic)}: the broker is closed`),
      );
    const sent = Promise.all([tail, ...subscribing]).then(async () => {
      const response = await stub(name).fetch(`${ORIGIN}/publish`, {
        method: "POST",
        body: payload as BodyInit,
        headers: { "content-type": typeof payload === "string" ? "text/plain; charset=utf-8" : "application/octet-stream" },
      });
      if (response.status !== 204)
        throw new Error(
          `wsloop/cloudflare: could not publish to topic ${JSON.stringify(topic)}: its object answered ${response.status}`,
        );
    });
    tail = sent.catch(() => {});
    return sent;
  };

  return {
    publish: (topic, payload) => publish(`t:${topic}`, topic, payload),
    publishFrame: (topic, payload) => publish(`f:${topic}`, topic, payload),
    topic: <T>(name: string, decode?: (payload: Payload) => T) => topicSelector(topics, name, decode),
    join: (connection, topic) => frames.join(connection, topic),
    leave: (connection, topic) => frames.leave(connection, topic),
    subscriberCount: (topic) => topics.count(topic),
    memberCount: (topic) => frames.count(topic),
    async close() {
      closed = true;
      for (const upstream of upstreams.values()) upstream.close();
      upstreams.clear();
    },
  } as DurableBroker;
}

/** One isolate's connection to a topic's object, made again (after 100 ms to 5 s) if it drops. */
class Upstream {
  #socket: ListenedSocket | undefined;
  #closed = false;
  #retry = 100;

  constructor(
    readonly object: () => { fetch(input: string, init?: RequestInit): Promise<Response> },
    readonly deliver: (payload: Payload) => void,
    readonly onError: (error: unknown) => void,
  ) {}

  async connect(): Promise<void> {
    try {
      const response = await this.object().fetch(`${ORIGIN}/subscribe`, { headers: { upgrade: "websocket" } });
      const socket = (response as Response & { webSocket?: ListenedSocket | null }).webSocket;
      if (!socket) throw new Error(`the topic's object answered ${response.status}`);
      socket.accept();
      socket.binaryType = "arraybuffer";
      socket.addEventListener("message", (event: { data: string | ArrayBuffer }) =>
        this.deliver(typeof event.data === "string" ? event.data : new Uint8Array(event.data)),
      );
      socket.addEventListener("close", () => this.#dropped());
      if (this.#closed) socket.close(1000, "");
      else this.#socket = socket;
      this.#retry = 100;
    } catch (error) {
      this.onError(new Error("wsloop/cloudflare: could not subscribe to a topic; trying again", { cause: error }));
      this.#dropped();
    }
  }

  close(): void {
    this.#closed = true;
    try {
      this.#socket?.close(1000, "");
    } catch {
      // Gone already.
    }
    this.#socket = undefined;
  }

  #dropped(): void {
    if (this.#closed) return;
    this.#socket = undefined;
    setTimeout(() => void this.connect(), this.#retry);
    this.#retry = Math.min(this.#retry * 2, 5000);
  }
}

/**
 * The Durable Object class behind each topic: export it from your Worker and bind it as the
 * namespace given to {@link createDurableBroker} (see examples/cloudflare/wrangler.jsonc).
 *
 * @example
 * ```ts
 * export { WsloopTopic } from "wsloop/cloudflare";
 * ```
 */
export class WsloopTopic {
  readonly #ctx: DurableObjectContext;

  /** Made by the runtime with the object's `ctx`. */
  constructor(ctx: DurableObjectContext) {
    this.#ctx = ctx;
  }

  /** `/subscribe` (a WebSocket upgrade) adds a subscriber; `POST /publish` sends the body to every one. */
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/subscribe") {
      const pair = new (workers().WebSocketPair)();
      // Hibernation: a topic whose subscribers are quiet need not stay in memory.
      this.#ctx.acceptWebSocket(pair[1]);
      return switchingProtocols(pair[0], "");
    }
    if (pathname === "/publish" && request.method === "POST") {
      const binary = request.headers.get("content-type") === "application/octet-stream";
      const payload = binary ? new Uint8Array(await request.arrayBuffer()) : await request.text();
      for (const socket of this.#ctx.getWebSockets()) {
        try {
          socket.send(payload);
        } catch {
          // A subscriber going away: the runtime drops it from getWebSockets.
        }
      }
      return new Response(null, { status: 204 });
    }
    return new Response("Not Found", { status: 404 });
  }

  /** Subscribers send nothing. */
  webSocketMessage(): void {}

  /** A subscriber left: its close is answered. */
  webSocketClose(socket: CloudflareSocket, code: number, reason: string): void {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Closed already.
    }
  }
}
