/**
 * wsloop on Node.js, on `ws` (the WebSocket library crossws' Node adapter runs on).
 *
 * @example
 * ```ts
 * import { serve } from "wsloop/node";
 * const server = await serve({ fetch: app, port: 3000 });
 * ```
 * @module
 */
import { createServer, type Server as HttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { guardOnError } from "../core/report.ts";
import { takeUpgrade } from "../core/upgrade.ts";
import { DEFAULT_UPGRADE_TIMEOUT } from "./caps.ts";
import { defaultOnError, notUpgraded, runFetch, serverUrl } from "./fetch.ts";
import { asPlainRequest, isWebSocketRequest, toRequest, writeResponse } from "./node-http.ts";
import { tryUpgradeRequest } from "./node-upgrade-request.ts";
import { NodeUpgrades } from "./node-upgrades.ts";
import type { CloseOptions, FetchHandler, ServeOptions, Server, ServerLimits, ServerStats } from "./types.ts";

export type { CloseOptions, FetchHandler, ServeOptions, Server, ServerLimits, ServerStats } from "./types.ts";

/**
 * What `attach` returns: closing it ends the WebSockets it accepted, not the HTTP server.
 *
 * @example
 * ```ts
 * const sockets = attach(server, app);
 * process.on("SIGTERM", () => void sockets.close().then(() => server.close()));
 * ```
 */
export interface Attached {
  /** Stops taking upgrades, closes every socket with 1001 (spread over `drain` seconds), resolves once each `onClose` ran. */
  close(options?: CloseOptions): Promise<void>;
  /** What the WebSockets it accepted have done (see `Server.stats`). */
  stats(): ServerStats;
}

/**
 * What `attach` takes besides the app.
 *
 * @example
 * ```ts
 * attach(server, app, { filter: (request) => new URL(request.url).pathname.startsWith("/ws/") });
 * ```
 */
export interface AttachOptions extends ServerLimits {
  /** Gets errors thrown by `fetch` (answered with 500). Default: console.error. */
  onError?: (error: unknown) => void;
  /**
   * Which WebSocket upgrade requests are wsloop's (default: all). A request it declines is left to
   * the server's other 'upgrade' listeners (socket.io, Vite HMR), or, if there are none, answered
   * by the server's request handler as a plain request. It runs synchronously on the request's
   * method, URL and headers, before any other listener acts.
   */
  filter?: (request: Request) => boolean;
  /**
   * Offer permessage-deflate to clients that ask for it (default false), through ws'
   * perMessageDeflate; messages under 128 bytes go out uncompressed.
   */
  compression?: boolean;
}

/**
 * Adds WebSocket upgrades to an existing Node HTTP server (an Express or Fastify app's server),
 * leaving its ordinary requests alone. Every `Upgrade: websocket` request (that `filter` accepts)
 * goes through `fetch`; other upgrades (h2c) reach the server as if wsloop were not there.
 *
 * @example
 * ```ts
 * const server = createServer(expressApp);
 * attach(server, (request) => upgradeWebSocket(request, options));
 * server.listen(3000);
 * ```
 */
export function attach(server: HttpServer, fetch: FetchHandler, options: AttachOptions = {}): Attached {
  const { filter, compression, ...limits } = options;
  const upgrades = new NodeUpgrades(fetch, guardOnError(options.onError, defaultOnError), limits, compression === true);
  return attachUpgrades(server, upgrades, filter);
}

/** Makes `upgrades` the server's 'upgrade' listener for WebSocket requests that `filter` accepts. */
function attachUpgrades(server: HttpServer, upgrades: NodeUpgrades, filter?: (request: Request) => boolean): Attached {
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!isWebSocketRequest(req)) {
      if (server.listenerCount("upgrade") === 1) asPlainRequest(server, req, socket, head);
      return;
    }
    // undefined for a target no URL can be made of: wsloop answers it with 400.
    const request = tryUpgradeRequest(req);
    if (!filter || !request || accepts(filter, request)) upgrades.handle(req, socket, head, request);
    else if (server.listenerCount("upgrade") === 1) asPlainRequest(server, req, socket, head);
    // Otherwise another 'upgrade' listener takes it.
  };
  server.on("upgrade", onUpgrade);
  return {
    // The listener stays: upgrades arriving after close get 503, not the app's marker response.
    close: (closeOptions) => upgrades.close(closeOptions),
    stats: () => upgrades.stats(),
  };
}

/** The app's filter; a throwing filter declines. */
function accepts(filter: (request: Request) => boolean, request: Request): boolean {
  try {
    return filter(request);
  } catch {
    return false;
  }
}

/**
 * Serves `fetch` on Node: plain HTTP requests and WebSocket upgrades alike.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app, port: 3000 });
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const { fetch, port, hostname, compression, ...limits } = options;
  const onError = guardOnError(options.onError, defaultOnError);
  // A client that never finishes its request head (slow-loris) is dropped after upgradeTimeout,
  // checked twice as often, rather than Node's 60 s checked every 30 s.
  const headersTimeout = (limits.upgradeTimeout ?? DEFAULT_UPGRADE_TIMEOUT) * 1000;
  const serverOptions = { headersTimeout, connectionsCheckingInterval: Math.min(30_000, Math.max(headersTimeout / 2, 100)) };
  const server = createServer(serverOptions, (req, res) => {
    const controller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    let request: Request;
    try {
      request = toRequest(req, controller.signal);
    } catch {
      res.writeHead(400).end("Bad Request");
      return;
    }
    runFetch(fetch, request, onError)
      // An upgrade the app accepted on a request Node did not treat as one (no `Connection: upgrade`):
      // the client gets a plain 426, never the marker response meant for wsloop's adapters.
      .then((response) => writeResponse(res, takeUpgrade(request, response) ? notUpgraded() : response))
      .catch((error: unknown) => {
        // The body stream failed midway or the client went away: nothing sensible is left to send.
        if (!controller.signal.aborted) onError(error);
        res.destroy();
      });
  });
  const upgrades = new NodeUpgrades(fetch, onError, limits, compression === true);
  const attached = attachUpgrades(server, upgrades);
  await upgrades.ready;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port ?? 3000, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const listening = (server.address() as AddressInfo).port;
  return {
    url: serverUrl(hostname, listening),
    port: listening,
    stats: attached.stats,
    async close(closeOptions) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await attached.close(closeOptions);
      server.closeIdleConnections();
      await stopped;
    },
  };
}
