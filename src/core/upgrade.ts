import type { Action } from "./action.ts";
import type { Connection } from "./connection.ts";
import { flowOf } from "./flow.ts";
import { header } from "./header.ts";
import type { Message, Notice } from "./message.ts";
import { type ProxyTrust, proxyTrustOf, type TrustedProxies } from "./proxies.ts";
import { type RateLimit, type RateRule, rateRuleOf } from "./rate-limit.ts";
import { responseHeadersOf } from "./response-headers.ts";
import type { Selector } from "./selector.ts";

export { kHeader } from "./header.ts";

/**
 * The shape of `onMessage`: the current state, one message, the connection and the dependencies
 * in; the next {@link Action} out (or a promise of it, awaited before the next message).
 *
 * @example
 * ```ts
 * const onMessage: MessageHandler<number, never, Deps> = (state, message, connection) => {
 *   if (message.type === "text") sendText(connection, message.text);
 *   return continueConnection(state + 1);
 * };
 * ```
 */
export type MessageHandler<State, Custom, Deps, M = Message<Custom>> = (
  state: State,
  message: M,
  connection: Connection,
  deps: Deps,
) => Action<State, Custom> | Promise<Action<State, Custom>>;

/**
 * The handlers and limits of one WebSocket endpoint. Handlers get their dependencies explicitly.
 *
 * @example
 * ```ts
 * const options: UpgradeOptions<number, never, Deps> = {
 *   dependencies: deps,
 *   onInit: () => [0],
 *   onMessage: (state) => continueConnection(state),
 *   onClose: () => {},
 *   maxMessageSize: 64 * 1024,
 *   allowedOrigins: ["https://example.com"],
 * };
 * ```
 */
export interface UpgradeOptions<State, Custom, Deps, Notices extends Notice = never> {
  /** Passed to every handler, so handlers can be plain module-level functions. */
  dependencies: Deps;
  /** Runs once when the socket opens: the initial state and, optionally, a selector of custom messages. */
  onInit: (
    connection: Connection,
    deps: Deps,
  ) => readonly [State, Selector<Custom>?] | Promise<readonly [State, Selector<Custom>?]>;
  /** Runs for each message, one at a time, in order; returns the next step. */
  onMessage: MessageHandler<State, Custom, Deps, Message<Custom, Notices>>;
  /** Runs exactly once after the socket closed, with the last state. */
  onClose: (state: State, deps: Deps) => void | Promise<void>;
  /** Subprotocols this endpoint speaks; the first one the client offers that is listed here is chosen. */
  protocols?: readonly string[];
  /** Largest frame accepted or sent, in bytes (default 16 MiB). A larger incoming one closes the socket with 1009. */
  maxMessageSize?: number;
  /** Above this many queued outgoing bytes, sends return a "backpressure" error (default 4 MiB). */
  maxBufferedAmount?: number;
  /**
   * Once queued plus refused outgoing bytes pass this (default 16 MiB), the client is not reading:
   * the socket is closed with 1008 rather than letting memory grow.
   */
  slowConsumerLimit?: number;
  /**
   * What the messages waiting for a busy handler may weigh (default 32 MiB, at least
   * maxMessageSize): each counts its UTF-8 or binary size plus 256 bytes for the objects holding
   * it, client messages and selector values alike. Past it the connection is closed with 1008
   * (a client sending faster than an async handler keeps up, or a topic busier than it), rather
   * than growing the queue without bound.
   */
  maxQueuedBytes?: number;
  /**
   * Seconds the loop may go on handling messages that were queued when the socket closed (default
   * 5). What is still queued then is dropped (and reported to onError), the closed notice is
   * delivered, and `server.close()` stops waiting for a connection whose handler is still running.
   */
  closeTimeout?: number;
  /**
   * Seconds without a frame from the client before the socket is closed with 1001 (default 120;
   * 0 turns it off). A ping goes out after half of it, so idle but healthy clients stay connected.
   * At most 2147483 (about 24.8 days, the longest timer delay); more is a RangeError.
   */
  idleTimeout?: number;
  /**
   * Origins allowed to open a socket, e.g. `["https://example.com"]` (default: any). A browser
   * upgrade from another origin gets 403 before any socket exists. Requests without an Origin
   * header (non-browser clients) are not affected. Each entry is read as a URL and only its origin
   * counts (`"https://Example.com:443/"` means `"https://example.com"`); one that has none, such
   * as `"example.com"`, is a RangeError.
   */
  allowedOrigins?: readonly string[];
  /**
   * Headers for the handshake's 101 response, e.g. `{ "set-cookie": "session=…; HttpOnly" }`
   * (several Set-Cookie through a Headers or an array of pairs). Sent on Node, Bun and Deno. Names
   * the handshake writes itself (Upgrade, Connection, Sec-WebSocket-*, Content-Length,
   * Transfer-Encoding) and invalid names or values are a RangeError or TypeError: the fetch handler
   * throws, and the client gets 500.
   */
  headers?: HeadersInit;
  /**
   * Proxies trusted to tell the client's address in `X-Forwarded-For`, for
   * `connection.clientAddress` (default: none, the header is ignored). Addresses and CIDR ranges
   * (`["10.0.0.0/8", "::1"]`, also `"loopback"` and `"private"`), or a number of hops in front of
   * the server whose address is not known in advance (`1`: one load balancer). A malformed entry is
   * a RangeError.
   */
  trustedProxies?: TrustedProxies;
  /** Gets what a handler threw (default: console.error). The socket is closed with 1011. */
  onError?: (error: unknown, connection: Connection) => void;

  // Flow control and abuse limits.
  /**
   * Queued bytes (weighed as for maxQueuedBytes) at which wsloop stops reading the client's
   * socket where the runtime can (Node, Bun; not Deno): TCP then slows a client that sends faster
   * than the handler keeps up, instead of the queue growing to maxQueuedBytes and a 1008 close.
   * Reading resumes below resumeReadingAt. Default 1 MiB (at most half of maxQueuedBytes).
   */
  pauseReadingAt?: number;
  /** Queued bytes below which reading resumes (default: half of pauseReadingAt). */
  resumeReadingAt?: number;
  /**
   * A per-connection token bucket on the client's frames, e.g. `{ messagesPerSecond: 20 }`
   * (default: none). A frame over it closes the socket with 1008, or with `exceeded: "message"`
   * reaches the handler as `{ type: "rate_limited", message }`.
   */
  rateLimit?: RateLimit<Notices>;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_AMOUNT = 4 * 1024 * 1024;
export const DEFAULT_SLOW_CONSUMER_LIMIT = 16 * 1024 * 1024;
export const DEFAULT_IDLE_TIMEOUT = 120;
export const DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024;
export const DEFAULT_CLOSE_TIMEOUT = 5;
/**
 * The largest idleTimeout, in seconds (about 24.8 days): 2^31 - 1 ms, the longest delay setTimeout
 * and setInterval take. A longer one would fire after 1 ms, so any timer made from it must fit.
 */
export const MAX_IDLE_TIMEOUT = Math.floor((2 ** 31 - 1) / 1000);

/** The limits of one connection, validated and with their defaults filled in. */
export interface Limits {
  readonly maxMessageSize: number;
  readonly maxBufferedAmount: number;
  readonly slowConsumerLimit: number;
  readonly maxQueuedBytes: number;
  /** Seconds; 0 means never. */
  readonly idleTimeout: number;
  /** Seconds. */
  readonly closeTimeout: number;
  /** Whom X-Forwarded-For is believed from (trustedProxies, parsed), for clientAddress. */
  readonly proxies: ProxyTrust | undefined;
  readonly pauseReadingAt: number;
  readonly resumeReadingAt: number;
  readonly rateRule: RateRule | undefined;
}

/** The options of any endpoint, as a loop holds them. */
export type AnyOptions = UpgradeOptions<unknown, unknown, unknown, Notice>;

/** An accepted upgrade waiting for its socket: what an adapter reads off the marker Response. */
export class PendingUpgrade {
  constructor(
    readonly request: Request,
    readonly protocol: string,
    readonly options: AnyOptions,
    readonly limits: Limits,
    /** Extra headers for the 101 response, validated. */
    readonly headers: Headers | undefined = undefined,
  ) {}
}

const kUpgrade = Symbol.for("wsloop.upgrade");
/** On a request: the upgrade whose answer was the marker its adapter lent (see lendMarker). */
const kLentUpgrade = Symbol.for("wsloop.lentUpgrade");
/** On an adapter's marker: it stands for the upgrade its request took through it, never one of its own. */
const kLentMarker = Symbol.for("wsloop.lentMarker");

/** A Response's upgrade, or a request's: its upgrade or the marker its adapter lent (see lendMarker). */
type Marked = { [kUpgrade]?: PendingUpgrade | Response; [kLentUpgrade]?: PendingUpgrade; [kLentMarker]?: true };

/**
 * Upgrades `request` to a WebSocket whose messages run through `onInit`, `onMessage` and `onClose`.
 *
 * Call it from a fetch-style handler and return its Response: a `wsloop/node`, `wsloop/bun` or
 * `wsloop/deno` server turns it into the runtime's real upgrade. For a request that is not a
 * WebSocket upgrade it returns a 426 response; for a malformed handshake (RFC 6455 §4.2.1), the same
 * answer on every runtime: 400 for a non-GET, a missing Host or a missing or invalid
 * Sec-WebSocket-Key, 426 with `Sec-WebSocket-Version: 13` for any version but 13.
 *
 * @example
 * ```ts
 * export function handle(request: Request): Response {
 *   return upgradeWebSocket(request, { dependencies: {}, onInit, onMessage, onClose });
 * }
 * ```
 */
export function upgradeWebSocket<State, Custom, Deps, Notices extends Notice = never>(
  request: Request,
  options: UpgradeOptions<State, Custom, Deps, Notices>,
): Response {
  const limits = limitsOf(options as LimitOptions);
  const allowedOrigins = originsOf(options.allowedOrigins);
  const headers = responseHeadersOf(options.headers);
  const refusal = refuseHandshake(request);
  if (refusal) return refusal;
  // Read only where the endpoint has a say: each header read is a scan (or a Headers call).
  const origin = allowedOrigins ? header(request, "origin") : null;
  if (origin !== null && allowedOrigins && !isAllowedOrigin(origin, allowedOrigins)) {
    // Cross-site WebSocket hijacking: a page elsewhere opening a socket with this site's cookies.
    return new Response("403 Forbidden: this origin may not open a WebSocket here.\n", {
      status: 403,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  const protocol = options.protocols?.length ? chooseProtocol(header(request, "sec-websocket-protocol"), options.protocols) : "";
  const pending = new PendingUpgrade(request, protocol, options as unknown as AnyOptions, limits, headers);
  const lent = (request as Marked)[kUpgrade];
  // On the request (middleware that rebuilds the Response would drop a mark on it), and there alone
  // where the adapter lent its marker: the upgrade is then taken off this request only.
  (request as Marked)[kUpgrade] = pending;
  if (lent instanceof Response) {
    // Apart from the request's latest upgrade: an app that calls this again on the same request
    // gets a marker of its own, and answering this one still stands for this upgrade.
    (request as Marked)[kLentUpgrade] = pending;
    return lent;
  }
  const response = upgradeMarker();
  (response as Marked)[kUpgrade] = pending;
  return response;
}

/**
 * The 426 that stands for an accepted upgrade. A server without a wsloop adapter sends it as it
 * is; its status text tells the developer why. No body: on Node a Response with one costs ~13 µs,
 * paid on every connection.
 */
export function upgradeMarker(): Response {
  return new Response(null, {
    status: 426,
    statusText: "Upgrade Required: serve this with a wsloop adapter",
    headers: { upgrade: "websocket" },
  });
}

/**
 * For an adapter that takes upgrades off the request and never sends `marker`: upgradeWebSocket
 * answers `marker` for `request` instead of a Response of its own. On Bun a Response per upgrade
 * left ~300 B of RSS per open connection (native memory freed only at a GC, between the sockets'
 * own allocations). Whoever answers `marker` for a request it did not upgrade gets nothing: the
 * adapter must not send it (one object for all requests).
 */
export function lendMarker(request: Request, marker: Response): void {
  (marker as Marked)[kLentMarker] = true;
  (request as Marked)[kUpgrade] = marker;
}

/** True for a Response an adapter lent (see lendMarker): shared, never to be sent to a client. */
export function isLentMarker(response: Response): boolean {
  return (response as Marked)[kLentMarker] === true;
}

/**
 * False while `request` still holds what upgradeWebSocket or lendMarker left on it: its answer was
 * never taken (takeUpgrade), because the app is still running past upgradeTimeout or never ran.
 */
export function answerTaken(request: Request): boolean {
  return (request as Marked)[kUpgrade] === undefined && (request as Marked)[kLentUpgrade] === undefined;
}

/** The upgrade `response` stands for, if any: what adapters call after running the fetch handler. */
export function takeUpgrade(request: Request, response: Response): PendingUpgrade | undefined {
  // Only upgradeWebSocket marks a Response, and always with its upgrade.
  const marked = (response as Marked)[kUpgrade] as PendingUpgrade | undefined;
  const onRequest = (request as Marked)[kUpgrade];
  // A lent marker still on the request: the app did not upgrade it.
  const requested = onRequest instanceof Response ? undefined : onRequest;
  // A lent marker stands for the upgrade it answered on this request, if any (not a later one).
  const lentFor = (request as Marked)[kLentUpgrade];
  const viaMarker = lentFor !== undefined && isLentMarker(response) ? lentFor : undefined;
  const pending = marked ?? (response.status === 426 ? (viaMarker ?? requested) : undefined);
  // The request lives as long as the socket (the runtime keeps it): it need not keep the upgrade too.
  if (onRequest) (request as Marked)[kUpgrade] = undefined;
  if (lentFor) (request as Marked)[kLentUpgrade] = undefined;
  // Taken once: an app answering the same marker again (cached) must not hand another client a
  // socket on this request (its URL, its cookies), nor count it twice under the caps.
  if (marked) (response as Marked)[kUpgrade] = undefined;
  return pending;
}

/**
 * True for a GET request asking to switch to the WebSocket protocol.
 *
 * @example
 * ```ts
 * if (!isWebSocketUpgrade(request)) return new Response("Use a WebSocket", { status: 426 });
 * ```
 */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" && asksForWebSocket(request);
}

function asksForWebSocket(request: Request): boolean {
  const upgrade = header(request, "upgrade");
  // What browsers and most clients send, read twice per upgrade: no lower-casing and splitting for it.
  if (upgrade === "websocket") return true;
  return (
    upgrade
      ?.toLowerCase()
      .split(",")
      .some((token) => token.trim() === "websocket") ?? false
  );
}

// Base64 of 16 bytes (RFC 6455 §4.2.1): 22 characters and "==". The same test `ws` applies.
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Checks the opening handshake (RFC 6455 §4.2.1) here, once, rather than leaving it to each runtime:
 * Bun and Deno throw (500) on a missing key, Deno accepts a bad key or version, Node takes version 8.
 */
function refuseHandshake(request: Request): Response | undefined {
  if (!asksForWebSocket(request)) {
    return plain(426, "this endpoint only accepts WebSocket connections.", { upgrade: "websocket" });
  }
  if (request.method !== "GET") return plain(400, "a WebSocket upgrade must be a GET request.");
  if (!header(request, "host")) return plain(400, "missing Host header.");
  if (!KEY.test(header(request, "sec-websocket-key") ?? "")) return plain(400, "missing or invalid Sec-WebSocket-Key header.");
  // RFC 6455 §4.4: an unsupported version gets 426 and the versions the server speaks.
  if (header(request, "sec-websocket-version")?.trim() !== "13") {
    return plain(426, "this server speaks WebSocket version 13.", {
      upgrade: "websocket",
      "sec-websocket-version": "13",
    });
  }
  return undefined;
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 426: "Upgrade Required" };

// With its status text: crossws writes Node's status line from it.
function plain(status: 400 | 426, why: string, headers: Record<string, string> = {}): Response {
  const statusText = STATUS_TEXT[status] ?? "";
  return new Response(`${status} ${statusText}: ${why}\n`, {
    status,
    statusText,
    headers: { ...headers, "content-type": "text/plain; charset=utf-8" },
  });
}

function chooseProtocol(offered: string | null, supported: readonly string[] | undefined): string {
  if (!offered || !supported || supported.length === 0) return "";
  for (const token of offered.split(",")) {
    const name = token.trim();
    if (supported.includes(name)) return name;
  }
  return "";
}

function isAllowedOrigin(origin: string, allowed: ReadonlySet<string>): boolean {
  // The header is an origin already; parsing lower-cases it and drops a default port, like the entries.
  const wanted = URL.canParse(origin) ? new URL(origin).origin : undefined;
  return wanted !== undefined && wanted !== "null" && allowed.has(wanted);
}

// Per allowedOrigins array: options are often spread per request, the array itself is usually shared.
const normalised = new WeakMap<readonly string[], ReadonlySet<string>>();

/**
 * allowedOrigins as origins (`new URL(entry).origin`): "https://Example.com:443/" allows what a
 * browser sends, "https://example.com". An entry that is not a URL with an origin is a RangeError.
 */
function originsOf(allowed: readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (allowed === undefined) return undefined;
  let origins = normalised.get(allowed);
  if (!origins) {
    origins = new Set(allowed.map(originOf));
    normalised.set(allowed, origins);
  }
  return origins;
}

function originOf(entry: string): string {
  const origin = URL.canParse(entry) ? new URL(entry).origin : "null";
  if (origin === "null")
    throw new RangeError(
      `upgradeWebSocket: allowedOrigins entry ${JSON.stringify(entry)} is not an origin like "https://example.com"`,
    );
  return origin;
}

type LimitOptions = Pick<
  UpgradeOptions<unknown, unknown, unknown, Notice>,
  | "maxMessageSize"
  | "maxBufferedAmount"
  | "slowConsumerLimit"
  | "maxQueuedBytes"
  | "idleTimeout"
  | "closeTimeout"
  | "trustedProxies"
  | "pauseReadingAt"
  | "resumeReadingAt"
  | "rateLimit"
>;

function limitsOf(options: LimitOptions): Limits {
  const maxBufferedAmount = positive("maxBufferedAmount", options.maxBufferedAmount, DEFAULT_MAX_BUFFERED_AMOUNT);
  const slowConsumerLimit = positive(
    "slowConsumerLimit",
    options.slowConsumerLimit,
    Math.max(DEFAULT_SLOW_CONSUMER_LIMIT, maxBufferedAmount),
  );
  if (slowConsumerLimit < maxBufferedAmount)
    throw new RangeError("upgradeWebSocket: slowConsumerLimit must be at least maxBufferedAmount");
  const maxMessageSize = positive("maxMessageSize", options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
  const maxQueuedBytes = positive("maxQueuedBytes", options.maxQueuedBytes, Math.max(DEFAULT_MAX_QUEUED_BYTES, maxMessageSize));
  if (maxQueuedBytes < maxMessageSize) throw new RangeError("upgradeWebSocket: maxQueuedBytes must be at least maxMessageSize");
  const idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  if (!(idleTimeout >= 0 && idleTimeout <= MAX_IDLE_TIMEOUT))
    throw new RangeError(`upgradeWebSocket: idleTimeout must be a number of seconds from 0 to ${MAX_IDLE_TIMEOUT}`);
  const closeTimeout = timerSeconds("closeTimeout", options.closeTimeout, DEFAULT_CLOSE_TIMEOUT);
  const proxies = proxyTrustOf(options.trustedProxies);
  const { pauseReadingAt, resumeReadingAt } = flowOf(options, maxQueuedBytes);
  const rateRule = rateRuleOf(options.rateLimit);
  // Each connection keeps its limits: connections with the same ones share one object.
  const last = lastLimits;
  if (
    last?.maxMessageSize === maxMessageSize &&
    last.maxBufferedAmount === maxBufferedAmount &&
    last.slowConsumerLimit === slowConsumerLimit &&
    last.maxQueuedBytes === maxQueuedBytes &&
    last.idleTimeout === idleTimeout &&
    last.closeTimeout === closeTimeout &&
    last.proxies === proxies &&
    last.pauseReadingAt === pauseReadingAt &&
    last.resumeReadingAt === resumeReadingAt &&
    last.rateRule === rateRule
  )
    return last;
  lastLimits = {
    maxMessageSize,
    maxBufferedAmount,
    slowConsumerLimit,
    maxQueuedBytes,
    idleTimeout,
    closeTimeout,
    proxies,
    pauseReadingAt,
    resumeReadingAt,
    rateRule,
  };
  return lastLimits;
}

let lastLimits: Limits | undefined;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`upgradeWebSocket: ${name} must be a positive number`);
  return value;
}

/** A positive number of seconds that fits in one timer (see MAX_IDLE_TIMEOUT). */
function timerSeconds(name: string, value: number | undefined, fallback: number): number {
  const seconds = positive(name, value, fallback);
  if (seconds > MAX_IDLE_TIMEOUT) throw new RangeError(`upgradeWebSocket: ${name} must be at most ${MAX_IDLE_TIMEOUT} seconds`);
  return seconds;
}
