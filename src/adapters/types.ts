/**
 * A fetch-style handler: the same function runs on Node, Bun and Deno.
 *
 * @example
 * ```ts
 * const app: FetchHandler = (request) =>
 *   new URL(request.url).pathname === "/ws" ? upgradeWebSocket(request, options) : new Response("Hello");
 * ```
 */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

import type { ServerStats } from "../core/stats.ts";

export type { ServerStats } from "../core/stats.ts";

/**
 * A server's limits on upgrades, and its telemetry: what `serve` (and `attach`,
 * `createBunHandlers`, `createDenoHandler`) take besides the app.
 *
 * @example
 * ```ts
 * const limits: ServerLimits = { maxConnections: 10_000, maxConnectionsPerIp: 20, upgradeTimeout: 5 };
 * ```
 */
export interface ServerLimits {
  /**
   * Most WebSocket connections at once (default: no cap): an upgrade beyond gets 503 with
   * Retry-After (1 to 5 s) before the app runs. Upgrades in the app's fetch and accepted ones not
   * yet open count.
   */
  maxConnections?: number;
  /**
   * Most WebSocket connections from one client address (default: no cap): beyond it, 429 with
   * Retry-After. An IPv6 client is counted by its /56 (one subscriber gets a /64 to a /48).
   */
  maxConnectionsPerIp?: number;
  /**
   * Seconds the app's fetch may take to answer an upgrade (default 10): later, the client gets 503
   * and what the app answers is dropped. On Node's `serve` also how long a request head may take
   * to arrive (Node's headersTimeout): a client that never finishes its handshake is dropped.
   */
  upgradeTimeout?: number;
  /**
   * Spans and metrics through `@opentelemetry/api` (an optional peer dependency, loaded only when
   * this is true; default false): a span per connection, one per handled message, metrics matching
   * `stats()`. `serve` rejects when the package is not installed.
   */
  telemetry?: boolean;
}

/**
 * Options of `close`.
 *
 * @example
 * ```ts
 * await server.close({ drain: 30 }); // 1001 closes spread over 30 s
 * ```
 */
export interface CloseOptions {
  /**
   * Seconds over which the 1001 closes are spread, in batches every 100 ms (default 0: all at
   * once), so clients that reconnect at once do not all land on the next instance in the same
   * second. New upgrades get 503 from the start; close() still resolves after every `onClose`.
   */
  drain?: number;
}

/**
 * What every adapter's `serve` takes.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app, port: 0, hostname: "127.0.0.1" });
 * ```
 */
export interface ServeOptions extends ServerLimits {
  /** The app: answers plain HTTP requests, and upgrades with `upgradeWebSocket`. */
  fetch: FetchHandler;
  /** Port to listen on (default 3000); 0 picks a free one. */
  port?: number;
  /** Interface to listen on (default: all). */
  hostname?: string;
  /** Gets errors thrown by `fetch` (answered with 500). Default: console.error. */
  onError?: (error: unknown) => void;
  /**
   * Offer permessage-deflate (RFC 7692) to clients that ask for it (default false). Node and Bun
   * only: Deno cannot negotiate it, and its `serve` rejects `compression: true`.
   */
  compression?: boolean;
}

/**
 * A running server.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app });
 * console.log(`listening on ${server.url}`);
 * await server.close(); // every socket gets 1001 and its onClose first
 * ```
 */
export interface Server {
  /** Where it listens, e.g. `http://localhost:3000/`. */
  readonly url: URL;
  /** The port it listens on (the one picked, for port 0). */
  readonly port: number;
  /** Stops accepting, closes every socket with 1001 (spread over `drain` seconds), waits for each `onClose`, then stops the server. */
  close(options?: CloseOptions): Promise<void>;
  /** What the server has done: connections, messages, queues, closes, handler time. Cheap to call every second. */
  stats(): ServerStats;
}
