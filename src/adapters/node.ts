/**
 * wsloop on Node.js, through crossws and `ws`.
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
import nodeAdapter from "crossws/adapters/node";
import { defaultOnError, runFetch, serverUrl } from "./fetch.ts";
import { createLoops } from "./loops.ts";
import { toRequest, writeResponse } from "./node-http.ts";
import type { FetchHandler, ServeOptions, Server } from "./types.ts";

export type { FetchHandler, ServeOptions, Server } from "./types.ts";

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
  /** Stops taking upgrades, closes every socket with 1001, resolves once each `onClose` ran. */
  close(): Promise<void>;
}

/**
 * Adds WebSocket upgrades to an existing Node HTTP server (an Express or Fastify app's server),
 * leaving its ordinary requests alone. Every upgrade request goes through `fetch`.
 *
 * @example
 * ```ts
 * const server = createServer(expressApp);
 * attach(server, (request) => upgradeWebSocket(request, options));
 * server.listen(3000);
 * ```
 */
export function attach(server: HttpServer, fetch: FetchHandler, options: { onError?: (error: unknown) => void } = {}): Attached {
  const loops = createLoops(fetch, { onError: options.onError ?? defaultOnError, canPing: true });
  // wsloop keeps each socket alive with its own idleTimeout; crossws' server-wide sweep is turned off.
  const ws = nodeAdapter({ hooks: loops.hooks, idleTimeout: 0 });
  // crossws hands the app its lazy Request for the upgrade (a GET without body, its headers parsed
  // on first use), which it keeps for the socket's lifetime: a full Request would cost ~2 KB each.
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => void ws.handleUpgrade(req, socket, head);
  server.on("upgrade", onUpgrade);
  return {
    async close() {
      server.off("upgrade", onUpgrade);
      await loops.closeAll();
      await ws.close();
    },
  };
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
  const onError = options.onError ?? defaultOnError;
  const server = createServer((req, res) => {
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
    runFetch(options.fetch, request, onError)
      .then((response) => writeResponse(res, response))
      .catch((error: unknown) => {
        // The body stream failed midway or the client went away: nothing sensible is left to send.
        if (!controller.signal.aborted) onError(error);
        res.destroy();
      });
  });
  const attached = attach(server, options.fetch, { onError });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3000, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: serverUrl(options.hostname, port),
    port,
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await attached.close();
      server.closeIdleConnections();
      await stopped;
    },
  };
}
