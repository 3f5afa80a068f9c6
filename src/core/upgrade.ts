import type { Action } from "./action.ts";
import type { Connection } from "./connection.ts";
import type { Message } from "./message.ts";
import type { Selector } from "./selector.ts";

/** The handlers and limits of one WebSocket endpoint. Handlers get their dependencies explicitly. */
export interface UpgradeOptions<State, Custom, Deps> {
  /** Passed to every handler, so handlers can be plain module-level functions. */
  dependencies: Deps;
  /** Runs once when the socket opens: the initial state and, optionally, a selector of custom messages. */
  onInit: (
    connection: Connection,
    deps: Deps,
  ) => readonly [State, Selector<Custom>?] | Promise<readonly [State, Selector<Custom>?]>;
  /** Runs for each message, one at a time, in order; returns the next step. */
  onMessage: (
    state: State,
    message: Message<Custom>,
    connection: Connection,
    deps: Deps,
  ) => Action<State, Custom> | Promise<Action<State, Custom>>;
  /** Runs exactly once after the socket closed, with the last state. */
  onClose: (state: State, deps: Deps) => void | Promise<void>;
  /** Subprotocols this endpoint speaks; the first one the client offers that is listed here is chosen. */
  protocols?: readonly string[];
  /** Largest frame accepted or sent, in bytes (default 16 MiB). A larger incoming one closes the socket with 1009. */
  maxMessageSize?: number;
  /** Above this many queued outgoing bytes, sends return a "backpressure" error (default 4 MiB). */
  maxBufferedAmount?: number;
  /** Gets what a handler threw (default: console.error). The socket is closed with 1011. */
  onError?: (error: unknown, connection: Connection) => void;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_AMOUNT = 4 * 1024 * 1024;

/** An accepted upgrade waiting for its socket: what an adapter reads off the marker Response. */
export class PendingUpgrade {
  constructor(
    readonly request: Request,
    readonly protocol: string,
    readonly options: UpgradeOptions<unknown, unknown, unknown>,
    readonly maxMessageSize: number,
    readonly maxBufferedAmount: number,
  ) {}
}

const kUpgrade = Symbol.for("wsloop.upgrade");
type Marked = { [kUpgrade]?: PendingUpgrade };

/**
 * Upgrades `request` to a WebSocket whose messages run through `onInit`, `onMessage` and `onClose`.
 *
 * Call it from a fetch-style handler and return its Response: a `wsloop/node`, `wsloop/bun` or
 * `wsloop/deno` server turns it into the runtime's real upgrade. For a request that is not a
 * WebSocket upgrade it returns a 426 response.
 *
 * @example
 * ```ts
 * export function handle(request: Request): Response {
 *   return upgradeWebSocket(request, { dependencies: {}, onInit, onMessage, onClose });
 * }
 * ```
 */
export function upgradeWebSocket<State, Custom, Deps>(
  request: Request,
  options: UpgradeOptions<State, Custom, Deps>,
): Response {
  const maxMessageSize = positive("maxMessageSize", options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
  const maxBufferedAmount = positive("maxBufferedAmount", options.maxBufferedAmount, DEFAULT_MAX_BUFFERED_AMOUNT);
  if (!isWebSocketUpgrade(request)) {
    return new Response("426 Upgrade Required: this endpoint only accepts WebSocket connections.\n", {
      status: 426,
      headers: { upgrade: "websocket", "content-type": "text/plain; charset=utf-8" },
    });
  }
  const protocol = chooseProtocol(request.headers.get("sec-websocket-protocol"), options.protocols);
  const pending = new PendingUpgrade(
    request,
    protocol,
    options as unknown as UpgradeOptions<unknown, unknown, unknown>,
    maxMessageSize,
    maxBufferedAmount,
  );
  // A server without a wsloop adapter sends this as it is, which tells the developer why.
  const response = new Response("426 Upgrade Required: serve this handler with wsloop/node, wsloop/bun or wsloop/deno.\n", {
    status: 426,
    headers: { upgrade: "websocket", "content-type": "text/plain; charset=utf-8" },
  });
  (response as Marked)[kUpgrade] = pending;
  // Also on the request: middleware that rebuilds the Response would drop the mark.
  (request as Marked)[kUpgrade] = pending;
  return response;
}

/** The upgrade `response` stands for, if any: what adapters call after running the fetch handler. */
export function takeUpgrade(request: Request, response: Response): PendingUpgrade | undefined {
  const marked = (response as Marked)[kUpgrade];
  if (marked) return marked;
  if (response.status === 426) return upgradeOf(request);
  return undefined;
}

/** The upgrade `upgradeWebSocket` accepted for `request`, if it was called with it. */
export function upgradeOf(request: Request): PendingUpgrade | undefined {
  return (request as Marked)[kUpgrade];
}

/** True for a GET request asking to switch to the WebSocket protocol. */
export function isWebSocketUpgrade(request: Request): boolean {
  if (request.method !== "GET") return false;
  const upgrade = request.headers.get("upgrade");
  return upgrade !== null && upgrade.toLowerCase().split(",").some((token) => token.trim() === "websocket");
}

function chooseProtocol(offered: string | null, supported: readonly string[] | undefined): string {
  if (!offered || !supported || supported.length === 0) return "";
  for (const token of offered.split(",")) {
    const name = token.trim();
    if (supported.includes(name)) return name;
  }
  return "";
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`upgradeWebSocket: ${name} must be a positive number`);
  return value;
}
