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

/**
 * What every adapter's `serve` takes.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app, port: 0, hostname: "127.0.0.1" });
 * ```
 */
export interface ServeOptions {
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
  /** Stops accepting, closes every socket with 1001, waits for each `onClose`, then stops the server. */
  close(): Promise<void>;
}
