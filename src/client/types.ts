// The public types of wsloop/client. Type-only imports from the core keep the client bundle free
// of server code: the schemas and error shapes are the server's own, shared, not copied.
import type { JsonError } from "../core/json.ts";
import type { Result } from "../core/result.ts";
import type { StandardSchemaV1 } from "../core/standard-schema.ts";

/**
 * What the client's loop gets for each frame from the server. With a `receive` schema, text
 * frames arrive as `json` (parsed and valid) or `invalid` (with the server's {@link JsonError}
 * shape); without one, as `text`. Binary frames are `binary` either way.
 *
 * @example
 * ```ts
 * function onMessage(state: string[], message: ClientMessage<{ text: string }>): string[] {
 *   if (message.type === "json") return [...state, message.value.text];
 *   if (message.type === "invalid") console.warn("unexpected frame", message.text);
 *   return state;
 * }
 * ```
 */
export type ClientMessage<In> =
  | { readonly type: "json"; readonly value: In }
  | { readonly type: "invalid"; readonly text: string; readonly error: JsonError }
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "binary"; readonly data: Uint8Array };

/**
 * How one connection attempt ended, as `onClose` gets it.
 *
 * @example
 * ```ts
 * function onClose(state: State, close: CloseInfo): State {
 *   if (close.final) return { ...state, status: "offline" };
 *   return { ...state, status: `reconnecting in ${Math.ceil((close.reconnectIn ?? 0) / 1000)} s` };
 * }
 * ```
 */
export interface CloseInfo {
  /**
   * The close code: the server's, 1006 when the connection failed or dropped (also after a
   * connect or heartbeat timeout, see `reason`), the app's own after `client.close(code)`, and
   * 1011 when a handler threw.
   */
  readonly code: number;
  /** The close reason, or what the client saw ("heartbeat timeout", "connect timeout"). */
  readonly reason: string;
  /** Whether this attempt's socket had opened. */
  readonly opened: boolean;
  /** Milliseconds until the next attempt; undefined on the final close. */
  readonly reconnectIn: number | undefined;
  /** True on the last onClose: the app closed the client, or it gave up. Nothing runs after it. */
  readonly final: boolean;
  /** Messages still queued when the client closed for good (dropped); 0 before then. */
  readonly unsent: number;
}

/**
 * What to do after a close the app did not ask for: reconnect after a delay drawn with full
 * jitter from an exponential window (`"reconnect"`), from a window 8 times larger
 * (`"backoff"`), between half the cap and the cap (`"backoff-hard"`), or not at all (`"stop"`).
 *
 * @example
 * ```ts
 * const decide = (close: { code: number }): ReconnectDecision | undefined =>
 *   close.code === 4429 ? "backoff-hard" : undefined; // undefined: the default for that code
 * ```
 */
export type ReconnectDecision = "reconnect" | "backoff" | "backoff-hard" | "stop";

/**
 * The reconnect schedule. The nth retry in a row (n from 0) waits a random time up to
 * `min(cap, base * 2^n)` ("reconnect"), up to `min(cap, base * 2^(n+3))` ("backoff"), or between
 * `cap / 2` and `cap` ("backoff-hard"). n goes back to 0 after a connection that stayed open
 * `minUptime`.
 *
 * @example
 * ```ts
 * connect(url, { dependencies: null, onInit: () => null, onMessage: (state) => state, backoff: { base: 250, cap: 10_000, maxAttempts: 20 } });
 * ```
 */
export interface BackoffOptions {
  /** The first window, in ms. Default 500. */
  base?: number;
  /** The largest delay, in ms. Default 30000. */
  cap?: number;
  /** Retries in a row before the client gives up (final onClose). Default Infinity. */
  maxAttempts?: number;
  /** How long a connection must stay open for the retry count to start again from 0, in ms. Default 5000. */
  minUptime?: number;
}

/**
 * The queue of messages sent while the client is not connected, flushed in order (after the
 * `resume` hook's messages) when a connection opens.
 *
 * @example
 * ```ts
 * connect(url, { dependencies: null, onInit: () => null, onMessage: (state) => state, queue: { maxMessages: 10, overflow: "drop-oldest" } });
 * ```
 */
export interface QueueOptions {
  /** Most messages held. Default 100. */
  maxMessages?: number;
  /** Most bytes held (UTF-8 size of text, length of binary). Default 1 MiB. */
  maxBytes?: number;
  /**
   * When full: `"reject"` (default) refuses the new message with a `queue_full` error;
   * `"drop-oldest"` drops the oldest queued messages to make room (for latest-value streams).
   */
  overflow?: "reject" | "drop-oldest";
}

/**
 * Liveness of an open connection: after `timeout / 2` ms without a frame from the server the
 * client sends `ping` (if set); after `timeout` ms of silence the connection counts as dead, is
 * dropped (code 1006, reason "heartbeat timeout") and replaced. Browsers do not expose WebSocket
 * pings, so the server must answer `ping` with any frame (or send something regularly).
 *
 * @example
 * ```ts
 * connect(url, { dependencies: null, onInit: () => null, onMessage: (state) => state, heartbeat: { timeout: 30_000, ping: '{"type":"ping"}' } });
 * ```
 */
export interface HeartbeatOptions {
  /** Silence, in ms, after which the connection is dead. */
  timeout: number;
  /** The text frame sent after half the timeout in silence. */
  ping?: string;
}

/**
 * The client's state: `"connecting"` (a socket is opening), `"open"`, `"waiting"` (for the next
 * attempt), `"closed"` (for good).
 *
 * @example
 * ```ts
 * if (client.status !== "open") banner.textContent = "Offline: messages will be sent on reconnect";
 * ```
 */
export type ClientStatus = "connecting" | "open" | "waiting" | "closed";

/**
 * Whether a message went out (`"sent"`: handed to the open socket) or waits in the queue for
 * the next connection (`"queued"`).
 *
 * @example
 * ```ts
 * const result = client.sendText("hi");
 * if (result.ok && result.value === "queued") showPending();
 * ```
 */
export type SendStatus = "sent" | "queued";

/**
 * Why the client refused a message. Nothing is thrown for these.
 *
 * @example
 * ```ts
 * const result = client.sendJson({ type: "say", text });
 * if (!result.ok && result.error.type === "queue_full") toast("Offline, and too much is waiting to be sent");
 * ```
 */
export type ClientSendError =
  /** The client is closed for good. */
  | { readonly type: "closed" }
  /** Not connected, and the queue is off (`queue: false`). */
  | { readonly type: "offline" }
  /** Not connected, and the queue is full (overflow "reject"). */
  | { readonly type: "queue_full"; readonly messages: number; readonly bytes: number }
  /** Larger than `maxMessageSize`, or than the queue's `maxBytes` while disconnected. */
  | { readonly type: "too_large"; readonly size: number; readonly limit: number }
  /** `sendJson`: the value does not match the `send` schema. */
  | { readonly type: "invalid"; readonly issues: readonly StandardSchemaV1.Issue[] };

/**
 * A reconnecting client, as {@link connect} returns it and every handler gets it.
 *
 * @example
 * ```ts
 * const client = connect(url, { dependencies: null, onInit: () => 0, onMessage: (count) => count + 1 });
 * client.sendText("hello");
 * client.close();
 * await client.closed;
 * ```
 */
export interface Client<Out = unknown> {
  /** Sends a text frame now when connected, else queues it. */
  sendText(text: string): Result<SendStatus, ClientSendError>;
  /** Sends a binary frame now when connected, else queues it. */
  sendBinary(data: Uint8Array): Result<SendStatus, ClientSendError>;
  /**
   * Sends `value` as JSON text, checked first by the `send` schema if there is one. A value JSON
   * cannot represent, or a schema that validates asynchronously, is a bug and throws.
   */
  sendJson(value: Out): Result<SendStatus, ClientSendError>;
  /**
   * Closes for good (default 1000; or 3000-4999): the socket is closed, queued messages are
   * dropped, and the final onClose runs after the messages already received.
   */
  close(code?: number, reason?: string): void;
  /** While waiting for the next attempt, makes it now (a "Reconnect now" button). */
  reconnectNow(): void;
  /** Where the client is. */
  readonly status: ClientStatus;
  /** Messages waiting in the queue. */
  readonly queued: number;
  /** Resolves with the final CloseInfo, after the final onClose has run. */
  readonly closed: Promise<CloseInfo>;
}

/**
 * The part of a WebSocket the client uses: the global WebSocket of browsers, Deno, Bun and
 * Node 22+, or `ws`'s.
 *
 * @example
 * ```ts
 * import WebSocket from "ws";
 * const Socket: WebSocketConstructor = WebSocket;
 * ```
 */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  readonly readyState: number;
};

/**
 * Where to connect: a URL, or a function of the state called before each attempt (to put what
 * the client last saw in the query, say).
 *
 * @example
 * ```ts
 * const url: ClientUrl<{ lastSeq: number }> = (state) => `wss://example.com/feed?after=${state.lastSeq}`;
 * ```
 */
export type ClientUrl<State> = string | URL | ((state: State) => string | URL);

/**
 * The client's loop and settings. The handlers mirror the server's: the state goes through
 * every handler, which returns the next one (or a promise of it: the next event waits for it).
 *
 * @example
 * ```ts
 * const options: ClientOptions<string[], null, { text: string }, { text: string }> = {
 *   dependencies: null,
 *   receive: Said,
 *   send: Say,
 *   onInit: () => [],
 *   onMessage: (lines, message) => (message.type === "json" ? [...lines, message.value.text] : lines),
 * };
 * ```
 */
export interface ClientOptions<State, Deps, In, Out> {
  /** Passed to every handler. */
  dependencies: Deps;
  /** Runs once, in connect(): the first state. */
  onInit: (client: Client<Out>, deps: Deps) => State;
  /** Runs each time a connection opens, after the resume hook and the queue went out. */
  onOpen?: (state: State, client: Client<Out>, deps: Deps) => State | Promise<State>;
  /** Runs for each frame from the server, one at a time, in order. */
  onMessage: (state: State, message: ClientMessage<In>, client: Client<Out>, deps: Deps) => State | Promise<State>;
  /** Runs once per attempt when it ends (opened or not), and once more with `final` set if no attempt follows. */
  onClose?: (state: State, close: CloseInfo, deps: Deps) => State | Promise<State>;
  /** Gets what a handler or hook threw (the client then closes for good, code 1011). Default console.error. */
  onError?: (error: unknown) => void;
  /** Called when a connection opens, before the queue is flushed: what it sends goes first (send what you last saw). */
  resume?: (state: State, client: Client<Out>, deps: Deps) => void;
  /** Checks and types text frames from the server (the schema of the server's `sendJson`). */
  receive?: StandardSchemaV1<unknown, In>;
  /** Checks `sendJson` (the schema the server's `jsonMessages` uses). Leave it out to skip the check in production. */
  send?: StandardSchemaV1<Out, unknown>;
  /** Subprotocols to offer. */
  protocols?: string | string[];
  /** The WebSocket constructor; default the global one (Node 20 has none: pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
  /** The reconnect schedule. */
  backoff?: BackoffOptions;
  /** Decides after a close the app did not ask for; undefined falls back to {@link reconnectDecision}. */
  reconnect?: (close: {
    readonly code: number;
    readonly reason: string;
    readonly opened: boolean;
  }) => ReconnectDecision | undefined;
  /** The queue while disconnected, or false: sending then fails at once with `offline`. */
  queue?: QueueOptions | false;
  /** Off by default. */
  heartbeat?: HeartbeatOptions;
  /** An attempt that has not opened after this many ms fails (1006, "connect timeout"). Default 10000. */
  connectTimeout?: number;
  /** Larger messages are refused with `too_large` instead of being sent (the server's limit). Default none. */
  maxMessageSize?: number;
}
