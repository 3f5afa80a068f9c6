/**
 * Drive a wsloop handler set in memory: no socket, no server, no runtime.
 *
 * @example
 * ```ts
 * const socket = await connect(handle, "http://localhost/ws?user=ann");
 * socket.sendText("hi");
 * await socket.settled();
 * expect(socket.texts()).toEqual(["ann: hi"]);
 * ```
 * @module
 */
import { type MemoryBroker, type MemoryBrokerOptions, memoryBroker } from "./core/broker.ts";
import type { Connection, Transport } from "./core/connection.ts";
import { Session } from "./core/session.ts";
import { takeUpgrade } from "./core/upgrade.ts";

/**
 * A frame the server sent to the client.
 *
 * @example
 * ```ts
 * expect(socket.frames).toEqual([{ type: "text", text: "hi" }]);
 * ```
 */
export type Frame = { readonly type: "text"; readonly text: string } | { readonly type: "binary"; readonly data: Uint8Array };

/**
 * The client side of an in-memory connection.
 *
 * @example
 * ```ts
 * const socket = await connect(app, "http://localhost/ws");
 * socket.sendText("hi");
 * await socket.settled();
 * expect(socket.texts()).toEqual(["hi"]);
 * ```
 */
export interface TestSocket<State = unknown, Custom = unknown> {
  /** The Connection the handlers got. */
  readonly connection: Connection;
  /** Every frame the server sent, in order. Binary data is the handler's own array, not a copy. */
  readonly frames: readonly Frame[];
  /** The text frames the server sent, in order. */
  texts(): string[];
  /** How the server closed the socket (stop, error, oversize), or undefined. */
  readonly closedByServer: { readonly code: number; readonly reason: string } | undefined;
  /** The loop's current state; undefined until `onInit` returned. */
  readonly state: State | undefined;
  /** True once `onClose` has been called. */
  readonly closeCalled: boolean;
  /** What the socket reports as queued outgoing bytes; raise it to simulate a slow client. */
  bufferedAmount: number;
  /** How many pings the server sent (keepalive). */
  readonly pings: number;
  /** True once the server dropped the connection without a closing handshake. */
  readonly terminated: boolean;
  /**
   * True while the server would not be reading the socket (flow control: more than
   * `pauseReadingAt` bytes queued). `sendText` and `sendBinary` still deliver, as frames a runtime
   * had read before the pause do.
   */
  readonly readingPaused: boolean;
  /** A text frame from the client. */
  sendText(text: string): void;
  /** A binary frame from the client. */
  sendBinary(data: Uint8Array): void;
  /** Delivers `value` as a custom message, as the active selector would. */
  sendCustom(value: Custom): void;
  /** A pong from the client (real clients answer each ping by themselves). */
  pong(): void;
  /** A clean close from the client. */
  close(code?: number, reason?: string): void;
  /** The TCP connection drops: the loop sees close code 1006. */
  disconnect(): void;
  /** Resolves when no handler is running and nothing is queued (after close: when `onClose` settled). */
  settled(): Promise<void>;
}

/**
 * A Request that asks for a WebSocket upgrade, as a browser would send it.
 *
 * @example
 * ```ts
 * const request = upgradeRequest("http://localhost/ws", { protocols: ["chat.v1"], headers: { origin: "https://example.com" } });
 * ```
 */
export function upgradeRequest(
  url: string | URL = "http://localhost/",
  init: { protocols?: readonly string[]; headers?: HeadersInit } = {},
): Request {
  const headers = new Headers(init.headers);
  headers.set("upgrade", "websocket");
  headers.set("connection", "Upgrade");
  headers.set("sec-websocket-version", "13");
  headers.set("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
  if (!headers.has("host")) headers.set("host", new URL(url).host);
  if (init.protocols?.length) headers.set("sec-websocket-protocol", init.protocols.join(", "));
  return new Request(url, { headers });
}

/**
 * Opens an in-memory connection. `target` is a fetch-style handler (called with `request`, by default
 * an upgrade request for `http://localhost/`) or the Response `upgradeWebSocket` returned.
 * Throws if the handler did not upgrade; call it directly to test its rejections.
 *
 * @example
 * ```ts
 * const socket = await connect(app, "http://localhost/ws?user=ann");
 * socket.close();
 * await socket.settled();
 * expect(socket.closeCalled).toBe(true);
 * ```
 */
export async function connect<State = unknown, Custom = unknown>(
  target: Response | ((request: Request) => Response | Promise<Response>),
  request: Request | string | URL = upgradeRequest(),
): Promise<TestSocket<State, Custom>> {
  const upgrade = typeof request === "string" || request instanceof URL ? upgradeRequest(request) : request;
  const response = typeof target === "function" ? await target(upgrade) : target;
  const pending = takeUpgrade(upgrade, response);
  if (!pending) throw new Error(`wsloop/testing: expected a WebSocket upgrade, the handler answered ${response.status}`);

  const frames: Frame[] = [];
  let closedByServer: { code: number; reason: string } | undefined;
  let pings = 0;
  let terminated = false;
  let readingPaused = false;
  const transport: Transport = {
    send(data) {
      frames.push(typeof data === "string" ? { type: "text", text: data } : { type: "binary", data });
      return true;
    },
    close(code, reason) {
      closedByServer ??= { code, reason };
    },
    terminate() {
      terminated = true;
    },
    ping() {
      pings++;
    },
    pause() {
      readingPaused = true;
    },
    resume() {
      readingPaused = false;
    },
    bufferedAmount: 0,
    // No server, no counters: an own property all the same, which the loop reads faster than a missing one.
    stats: undefined,
  };
  const session = new Session(pending, transport);
  session.start();
  return {
    connection: session.connection,
    frames,
    texts: () => frames.flatMap((frame) => (frame.type === "text" ? [frame.text] : [])),
    get closedByServer() {
      return closedByServer;
    },
    get state() {
      return session.state as State | undefined;
    },
    get closeCalled() {
      return session.closeCalled;
    },
    get bufferedAmount() {
      return transport.bufferedAmount;
    },
    set bufferedAmount(bytes: number) {
      (transport as { bufferedAmount: number }).bufferedAmount = bytes;
    },
    get pings() {
      return pings;
    },
    get terminated() {
      return terminated;
    },
    get readingPaused() {
      return readingPaused;
    },
    pong: () => session.heard(),
    sendText: (text) => session.text(text),
    sendBinary: (data) => session.binary(data),
    sendCustom: (value) => session.custom(value),
    close: (code = 1000, reason = "") => session.closed(code, reason),
    disconnect: () => session.closed(1006, ""),
    settled: () => session.whenIdle(),
  };
}

/**
 * A memory broker whose store can be made unreachable and restarted, to test what an app does
 * when Redis is partitioned away or restarts: the same behaviour as `createRedisStreamBroker`.
 *
 * @example
 * ```ts
 * const broker = createTestBroker({ retention: { maxLength: 100 }, publishTimeout: 200 });
 * broker.partition();
 * const late = broker.publish("room", "waits");    // buffered (maxBufferedBytes), rejects after publishTimeout
 * broker.heal();                                   // goes out now, in order
 * await late;
 * broker.restart();                                // the store comes back empty: replaying subscribers get a gap
 * ```
 */
export interface TestBroker extends MemoryBroker {
  /**
   * The store becomes unreachable: publishes wait in a bounded buffer (`maxBufferedBytes`; past
   * it they reject with `buffer_full`, past `publishTimeout` with `timeout`), replays wait, and
   * subscribers get nothing until `heal`.
   */
  partition(): void;
  /** Reachable again: the waiting publishes go out in publish order, the waiting replays read. */
  heal(): void;
  /**
   * The store restarts. Without `keepData` (a Redis without persistence) every topic's messages
   * and counts are gone: a replay from an earlier id, and the next message for a live
   * subscriber, come with a gap notice. With it (Redis with AOF), nothing changes for subscribers.
   */
  restart(options?: { keepData?: boolean }): void;
  /** True between `partition` and `heal`. */
  readonly partitioned: boolean;
}

/**
 * Creates a {@link TestBroker}.
 *
 * @example
 * ```ts
 * const broker = createTestBroker({ retention: { maxLength: 1000 } });
 * const socket = await connect(app({ broker }), "http://localhost/chat?lastId=0-0");
 * ```
 */
export function createTestBroker(options: MemoryBrokerOptions = {}): TestBroker {
  const { broker, control } = memoryBroker(options);
  const switches = {
    partition: () => control.partition(),
    heal: () => control.heal(),
    restart: (restartOptions: { keepData?: boolean } = {}) => control.restart(restartOptions.keepData === true),
  };
  // A getter, so `partitioned` is read each time (Object.assign would copy its value once).
  return Object.defineProperty(Object.assign(broker, switches), "partitioned", { get: () => control.partitioned }) as TestBroker;
}
