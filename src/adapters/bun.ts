/**
 * wsloop on Bun, through crossws and Bun.serve's native WebSockets.
 *
 * @example
 * ```ts
 * import { serve } from "wsloop/bun";
 * const server = await serve({ fetch: app, port: 3000 });
 * ```
 * @module
 */
import type { Server as BunServer, WebSocketHandler } from "bun";
import bunAdapter from "crossws/adapters/bun";
import { isWebSocketUpgrade } from "../core/upgrade.ts";
import { defaultOnError, runFetch, serverUrl } from "./fetch.ts";
import { createLoops } from "./loops.ts";
import type { FetchHandler, ServeOptions, Server } from "./types.ts";

export type { FetchHandler, ServeOptions, Server } from "./types.ts";

/**
 * What to spread into your own `Bun.serve({ ...handlers })`; `close` ends the sockets gracefully.
 *
 * @example
 * ```ts
 * const handlers = createBunHandlers(app);
 * Bun.serve({ port: 3000, fetch: handlers.fetch, websocket: handlers.websocket });
 * ```
 */
export interface BunHandlers<Data> {
  /** Bun.serve's `fetch`: runs the app, and performs the upgrades it accepts. */
  fetch(request: Request, server: BunServer<Data>): Promise<Response | undefined>;
  /** Bun.serve's `websocket`: feeds each socket's frames and close to its loop. */
  websocket: WebSocketHandler<Data>;
  /** Refuses new upgrades, closes every socket with 1001, resolves once each `onClose` ran. */
  close(): Promise<void>;
}

/**
 * The `fetch` and `websocket` handlers that run `fetch` (and its WebSocket loops) on Bun.serve.
 *
 * @example
 * ```ts
 * const { fetch, websocket } = createBunHandlers(app);
 * Bun.serve({ port: 3000, fetch, websocket });
 * ```
 */
export function createBunHandlers<Data = unknown>(
  fetch: FetchHandler,
  options: { onError?: (error: unknown) => void } = {},
): BunHandlers<Data> {
  const onError = options.onError ?? defaultOnError;
  // Broadcasts (Broker.publishFrame) go through Bun's native topics: one call fans out in Bun.
  let server: BunServer<Data> | undefined;
  const hub = { publish: (topic: string, data: string | Uint8Array) => void server?.publish(topic, data) };
  const loops = createLoops(fetch, { onError, canPing: true, sendAnswersBytes: true, blankProtocol: true, hub });
  // wsloop keeps each socket alive with its own idleTimeout; Bun's server-wide one is turned off.
  const ws = bunAdapter({ hooks: loops.hooks, idleTimeout: 0 });
  return {
    // An upgrade request reaches the app through crossws' upgrade hook, so it runs `fetch` once.
    fetch(request, current) {
      server = current;
      return isWebSocketUpgrade(request) ? ws.handleUpgrade(request, current as never) : runFetch(fetch, request, onError);
    },
    websocket: ws.websocket as unknown as WebSocketHandler<Data>,
    close: () => loops.closeAll(),
  };
}

/**
 * Serves `fetch` on Bun: plain HTTP requests and WebSocket upgrades alike.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app, port: 3000 });
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const handlers = createBunHandlers(options.fetch, options.onError ? { onError: options.onError } : {});
  const server = Bun.serve({
    port: options.port ?? 3000,
    ...(options.hostname ? { hostname: options.hostname } : {}),
    fetch: handlers.fetch,
    websocket: handlers.websocket,
  });
  const port = server.port as number;
  return {
    url: serverUrl(options.hostname, port),
    port,
    async close() {
      await handlers.close();
      await server.stop();
    },
  };
}
