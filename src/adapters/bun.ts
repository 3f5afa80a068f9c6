/**
 * wsloop on Bun, on Bun.serve's native WebSockets (driven directly: see BunPeer) and crossws' hooks.
 *
 * @example
 * ```ts
 * import { serve } from "wsloop/bun";
 * const server = await serve({ fetch: app, port: 3000 });
 * ```
 * @module
 */
import type { Server as BunServer, WebSocketHandler } from "bun";
import { guardOnError } from "../core/report.ts";
import { isThenable } from "../core/thenable.ts";
import { isWebSocketUpgrade, type PendingUpgrade } from "../core/upgrade.ts";
import { BunPeer, type BunPeerHooks, bunWebSocket } from "./bun-peer.ts";
import { defaultOnError, lacksConnectionUpgrade, notUpgraded, runFetch, serverUrl } from "./fetch.ts";
import { LentMarker, ownResponse } from "./lent-marker.ts";
import { createLoops } from "./loops.ts";
import type { CloseOptions, FetchHandler, ServeOptions, Server, ServerLimits, ServerStats } from "./types.ts";

export type { CloseOptions, FetchHandler, ServeOptions, Server, ServerLimits, ServerStats } from "./types.ts";

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
  /** Refuses new upgrades, closes every socket with 1001 (spread over `drain` seconds), resolves once each `onClose` ran. */
  close(options?: CloseOptions): Promise<void>;
  /** What the server's WebSockets have done (see `Server.stats`). */
  stats(): ServerStats;
  /** Settles once telemetry is loaded (at once without it); rejects when it cannot be. */
  readonly ready: Promise<void>;
}

/** Bun's own default maxPayloadLength, and wsloop's default maxMessageSize. */
const BUN_MAX_PAYLOAD_LENGTH = 16 * 1024 * 1024;

/** The app's headers for the 101, with the chosen subprotocol (or a blank one). */
function withProtocol(headers: HeadersInit | undefined, protocol: string): HeadersInit {
  if (!headers) return { "sec-websocket-protocol": protocol };
  const merged = new Headers(headers);
  merged.set("sec-websocket-protocol", protocol);
  return merged;
}

/**
 * Options of {@link createBunHandlers} and Bun's {@link serve}.
 *
 * @example
 * ```ts
 * const options: BunOptions = { maxPayloadLength: 64 * 1024 * 1024 };
 * ```
 */
export interface BunOptions extends ServerLimits {
  /** Gets errors thrown by `fetch` (answered with 500). Default: console.error. */
  onError?: (error: unknown) => void;
  /**
   * The largest message Bun reads, for every socket of the server (default 16 MiB, Bun's own and
   * wsloop's default maxMessageSize): Bun closes larger ones with 1009 before wsloop sees them.
   * Raise it to the largest `maxMessageSize` of your endpoints; an upgrade to an endpoint whose
   * maxMessageSize is above it is reported to `onError` (once per size). With compression, it
   * bounds a message's size once inflated.
   */
  maxPayloadLength?: number;
  /**
   * Offer permessage-deflate to clients that ask for it (default false): Bun's
   * `perMessageDeflate: true`, one shared compressor and decompressor for all sockets (no context
   * kept between messages), and every frame wsloop sends is compressed for those clients.
   */
  compression?: boolean;
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
export function createBunHandlers<Data = unknown>(fetch: FetchHandler, options: BunOptions = {}): BunHandlers<Data> {
  const { maxPayloadLength = BUN_MAX_PAYLOAD_LENGTH, compression, ...limits } = options;
  const onError = guardOnError(options.onError, defaultOnError);
  const perIp = limits.maxConnectionsPerIp !== undefined;
  const warned = new Set<number>();
  // Broadcasts (Broker.publishFrame) go through Bun's native topics: one call fans out in Bun.
  let server: BunServer<Data> | undefined;
  const compress = compression === true;
  const hub = { publish: (topic: string, data: string | Uint8Array) => void server?.publish(topic, data, compress) };
  const loops = createLoops(fetch, {
    ...limits,
    onError,
    canPing: true,
    sendAnswersBytes: true,
    hub,
    compress,
    // The peer is its own transport (its address: the port the upgrade put in it, see BunPeer).
    ownTransport: BunPeer.transport,
  });
  // Bun reads a whole message before wsloop sees it, and closes (1009) above maxPayloadLength, per server.
  const websocket = bunWebSocket(loops.hooks as BunPeerHooks, { maxPayloadLength, perMessageDeflate: compress });
  // The app runs first, so the endpoint's limits are known; then Bun upgrades with its answer.
  // What upgradeWebSocket answers for this server's upgrades: one Response, not one per upgrade.
  const markers = new LentMarker();
  const upgrade = async (request: Request, current: BunServer<Data>): Promise<Response | undefined> => {
    // requestIP makes an object per call: called once, for the port (and the address where it is counted).
    const ip = current.requestIP(request);
    const lent = markers.lend(request);
    let outcome: Response | PendingUpgrade;
    try {
      const routing = loops.route(request, perIp ? ip?.address : undefined, true);
      outcome = isThenable(routing) ? await routing : routing;
    } finally {
      markers.giveBack(lent, request);
    }
    if (outcome instanceof Response) return ownResponse(outcome);
    // Bun would upgrade it: answered as on Node and Deno, its place given back.
    if (lacksConnectionUpgrade(request)) {
      loops.release(outcome);
      return notUpgraded();
    }
    const size = outcome.limits.maxMessageSize;
    if (size > maxPayloadLength && !warned.has(size)) {
      warned.add(size);
      onError(
        new RangeError(
          `wsloop: maxMessageSize ${size} is above Bun's maxPayloadLength ${maxPayloadLength}: Bun closes larger messages with 1009 before wsloop sees them. Pass maxPayloadLength to serve or createBunHandlers.`,
        ),
      );
    }
    // Upgraded here, with a BunPeer as ws.data, rather than through crossws' Bun adapter (its async
    // upgrade pipeline: a hook call, protocol resolution, a Headers per upgrade).
    // Bun answers the client's first offered subprotocol when the response names none: a blank
    // header keeps it out, needed only when the client offered one.
    const { protocol, headers } = outcome;
    const answer = protocol
      ? withProtocol(headers, protocol)
      : request.headers.has("sec-websocket-protocol")
        ? withProtocol(headers, "")
        : headers;
    const data = new BunPeer(outcome, ip?.port);
    if ((current as unknown as BunServer<BunPeer>).upgrade(request, { data, headers: answer })) return undefined;
    // Bun refused the upgrade: no socket will open for it.
    loops.release(outcome);
    return new Response("Upgrade failed", { status: 500 });
  };
  return {
    fetch(request, current) {
      server = current;
      return isWebSocketUpgrade(request) ? upgrade(request, current) : runFetch(fetch, request, onError);
    },
    websocket: websocket as unknown as WebSocketHandler<Data>,
    close: (closeOptions) => loops.closeAll(closeOptions),
    stats: loops.stats,
    ready: loops.ready,
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
export async function serve(options: ServeOptions & Pick<BunOptions, "maxPayloadLength">): Promise<Server> {
  const { fetch, port, hostname, ...handlerOptions } = options;
  const handlers = createBunHandlers(fetch, handlerOptions);
  await handlers.ready;
  const server = Bun.serve({
    port: port ?? 3000,
    ...(hostname ? { hostname } : {}),
    fetch: handlers.fetch,
    websocket: handlers.websocket,
  });
  const listening = server.port as number;
  return {
    url: serverUrl(hostname, listening),
    port: listening,
    stats: handlers.stats,
    async close(closeOptions) {
      await handlers.close(closeOptions);
      await server.stop();
    },
  };
}
