/**
 * wsloop on Deno, through Deno.upgradeWebSocket and crossws' hooks.
 *
 * @example
 * ```ts
 * import { serve } from "wsloop/deno";
 * const server = await serve({ fetch: app, port: 3000 });
 * ```
 * @module
 */
import type { Hooks } from "crossws";
import { guardOnError } from "../core/report.ts";
import { isThenable } from "../core/thenable.ts";
import { isWebSocketUpgrade } from "../core/upgrade.ts";
import { DenoPeer } from "./deno-peer.ts";
import { terminateDenoSocket } from "./deno-socket.ts";
import { defaultOnError, internalError, lacksConnectionUpgrade, notUpgraded, runFetch, serverUrl } from "./fetch.ts";
import { createLoops } from "./loops.ts";
import { contextAddress, PORT_KEY } from "./peer-address.ts";
import { KEY } from "./peer-context.ts";
import type { CloseOptions, FetchHandler, ServeOptions, Server, ServerLimits, ServerStats } from "./types.ts";

export type { CloseOptions, FetchHandler, ServeOptions, Server, ServerLimits, ServerStats } from "./types.ts";

/**
 * What Deno.serve passes a handler besides the request.
 *
 * @example
 * ```ts
 * Deno.serve((request, info: DenoServeInfo) => handler(request, info));
 * ```
 */
export interface DenoServeInfo {
  /** The client's address. */
  remoteAddr?: { hostname: string; port?: number };
}

/**
 * A `Deno.serve` handler (also Deno Deploy's `export default { fetch }`); `close` ends the sockets gracefully.
 *
 * @example
 * ```ts
 * const handler = createDenoHandler(app);
 * Deno.serve({ port: 3000 }, handler);
 * // later: await handler.close();
 * ```
 */
export interface DenoHandler {
  (request: Request, info?: DenoServeInfo): Promise<Response>;
  /** Refuses new upgrades, closes every socket with 1001 (spread over `drain` seconds), resolves once each `onClose` ran. */
  close(options?: CloseOptions): Promise<void>;
  /** What the server's WebSockets have done (see `Server.stats`). */
  stats(): ServerStats;
  /** Settles once telemetry is loaded (at once without it); rejects when it cannot be. */
  readonly ready: Promise<void>;
}

// The slice of the Deno namespace this file uses, so it type-checks without Deno's global types.
interface DenoApi {
  serve(
    options: { port: number; hostname?: string; onListen?: (addr: { port: number }) => void },
    handler: (request: Request, info: DenoServeInfo) => Promise<Response>,
  ): { shutdown(): Promise<void> };
  upgradeWebSocket(request: Request, options: { idleTimeout: number }): { socket: WebSocket; response: Response };
}

/**
 * Runs `fetch` (and its WebSocket loops) as a Deno.serve handler.
 *
 * @example
 * ```ts
 * export default { fetch: createDenoHandler(app) }; // Deno Deploy, deno serve
 * ```
 */
export function createDenoHandler(
  fetch: FetchHandler,
  options: ServerLimits & { onError?: (error: unknown) => void } = {},
): DenoHandler {
  const { onError: appOnError, ...limits } = options;
  const onError = guardOnError(appOnError, defaultOnError);
  const perIp = limits.maxConnectionsPerIp !== undefined;
  const loops = createLoops(fetch, {
    ...limits,
    onError,
    remoteAddress: contextAddress,
    canPing: false,
    terminate: terminateDenoSocket,
  });
  const hooks = loops.hooks as Required<Pick<Hooks, "open" | "message" | "close">>;
  const upgrade = async (request: Request, info: DenoServeInfo): Promise<Response> => {
    const remote = info.remoteAddr;
    // The address is parsed (clientKey) only where it is counted.
    const routing = loops.route(request, perIp ? remote?.hostname : undefined, true);
    const outcome = isThenable(routing) ? await routing : routing;
    if (outcome instanceof Response) return outcome;
    // Deno.upgradeWebSocket would throw: answered as Node answers it, without a 500 and a stack
    // trace per request (a log any client could flood), and its place given back at once.
    if (lacksConnectionUpgrade(request)) {
      loops.release(outcome);
      return notUpgraded();
    }
    // Upgraded here rather than through crossws' Deno adapter (see DenoPeer). Deno's WebSocket
    // cannot send a ping from JavaScript, but Deno.upgradeWebSocket pings and closes idle sockets
    // itself, with the endpoint's timeout.
    // Deno's headers.get asks the connection each time, which fails ("Request closed") once the
    // 101 is out; headers.has reads the whole list into the Headers, so connection.request's
    // headers stay readable while the socket is open (crossws' adapter copied them instead).
    request.headers.has("upgrade");
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = (globalThis as unknown as { Deno: DenoApi }).Deno.upgradeWebSocket(request, {
        idleTimeout: outcome.limits.idleTimeout,
      });
    } catch (error) {
      // Anything else Deno refuses is unexpected: reported, and no socket will open for it.
      loops.release(outcome);
      onError(error);
      return internalError();
    }
    // The socket keeps the peer (its listener). The port is in the serve info only: the peer's
    // context keeps it (see contextAddress).
    new DenoPeer(upgraded.socket, remote?.hostname, { [KEY]: outcome, [PORT_KEY]: remote?.port }, hooks);
    // Deno.upgradeWebSocket only finds a protocol in an offer separated by ", " exactly; clients
    // may send "a,b", and it ignores headers handed to it. The 101 response's headers are
    // mutable, so the choice and the app's headers go there instead.
    const response = upgraded.response;
    if (outcome.protocol) response.headers.set("sec-websocket-protocol", outcome.protocol);
    if (outcome.headers) for (const [name, value] of outcome.headers) response.headers.append(name, value);
    return response;
  };
  const handler = (request: Request, info?: DenoServeInfo): Promise<Response> =>
    isWebSocketUpgrade(request) ? upgrade(request, info ?? {}) : runFetch(fetch, request, onError);
  return Object.assign(handler, {
    close: (closeOptions?: CloseOptions) => loops.closeAll(closeOptions),
    stats: loops.stats,
    ready: loops.ready,
  });
}

/**
 * Serves `fetch` on Deno: plain HTTP requests and WebSocket upgrades alike.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app, port: 3000 });
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const { fetch, port: wanted, hostname, compression, ...handlerOptions } = options;
  if (compression) {
    // Refused rather than ignored: a server asked to compress that silently does not would only
    // show in the bandwidth bill. Portable code passes `compression: runtime !== "deno"`.
    throw new TypeError(
      "wsloop/deno: compression (permessage-deflate) is not available on Deno: Deno.upgradeWebSocket cannot negotiate it. Leave `compression` out on Deno, or compress in a proxy in front of it.",
    );
  }
  const handler = createDenoHandler(fetch, handlerOptions);
  await handler.ready;
  const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
  let port = 0;
  let server!: { shutdown(): Promise<void> };
  await new Promise<void>((resolve) => {
    server = deno.serve(
      {
        port: wanted ?? 3000,
        ...(hostname ? { hostname } : {}),
        onListen: (addr) => {
          port = addr.port;
          resolve();
        },
      },
      handler,
    );
  });
  return {
    url: serverUrl(hostname, port),
    port,
    stats: handler.stats,
    async close(closeOptions) {
      await handler.close(closeOptions);
      await server.shutdown();
    },
  };
}
