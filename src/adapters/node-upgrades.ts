// How wsloop takes WebSocket upgrades on Node: the app decides first (on a Request like Bun's and
// Deno's), then crossws and its bundled `ws` perform the handshake with the endpoint's limits.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Hooks, Peer } from "crossws";
import nodeAdapter from "crossws/adapters/node";
import { isThenable } from "../core/thenable.ts";
import type { PendingUpgrade } from "../core/upgrade.ts";
import { createLoops, type Loops, wsloopNamespace } from "./loops.ts";
import { refuseUpgrade } from "./node-http.ts";
import { slimNodePeer } from "./node-peer.ts";
import { tryUpgradeRequest, UpgradeRequest } from "./node-upgrade-request.ts";
import { nodeAddress } from "./peer-address.ts";
import { socketOf } from "./peer-context.ts";
import type { CloseOptions, FetchHandler, ServerLimits, ServerStats } from "./types.ts";

type NodeAdapter = ReturnType<typeof nodeAdapter>;

/** The part of crossws' bundled `ws` WebSocket this file uses (public `ws` API, but for `_receiver`). */
interface NodeWebSocket {
  readonly readyState: number;
  pong(data: Uint8Array, mask: boolean, cb: (error?: Error) => void): void;
  /** ws' frame parser, a Writable: `errored` is the protocol error it stopped at, if any. */
  readonly _receiver?: { readonly errored?: Error | null };
}

const OPEN = 1;
// ws' default fragment cap (16384) closed Autobahn's 4 MiB messages in 64-byte fragments with
// 1008; the cap is kept for memory (each fragment is a Buffer), but scales with the size limit.
const MIN_FRAGMENT_BYTES = 64;
const WS_DEFAULT_MAX_FRAGMENTS = 16 * 1024;
/**
 * ws' permessage-deflate settings with `compression`: its defaults (context kept between messages,
 * zlib level 6, 10 zlib jobs at once) but for the threshold: ws compresses nothing under 1 KiB by
 * default, which is most chat and JSON messages.
 */
const PER_MESSAGE_DEFLATE = Object.freeze({ threshold: 128 });

/** Upgrades for one Node server: `handle` is its 'upgrade' listener. */
export class NodeUpgrades {
  readonly #loops: Loops;
  // ws' maxPayload is per WebSocketServer: one crossws adapter per message size limit in use,
  // so `ws` stops reading a message at the endpoint's maxMessageSize (1009), not at 100 MiB.
  readonly #adapters = new Map<number, NodeAdapter>();
  readonly #hooks: Partial<Hooks>;
  readonly #compression: boolean;
  /** Whether upgrades need the client's address before the app runs (maxConnectionsPerIp). */
  readonly #perIp: boolean;

  constructor(fetch: FetchHandler, onError: (error: unknown) => void, limits: ServerLimits = {}, compression = false) {
    this.#compression = compression;
    this.#loops = createLoops(fetch, {
      ...limits,
      onError,
      canPing: true,
      closeSent,
      remoteAddress: nodeAddress,
      keepAddress: slimNodePeer,
    });
    this.#perIp = limits.maxConnectionsPerIp !== undefined;
    const { ping } = this.#loops.hooks;
    this.#hooks = {
      ...this.#loops.hooks,
      ping(peer, data) {
        void ping?.(peer, data);
        answerPing(socketOf(peer) as NodeWebSocket, data);
      },
    };
  }

  /**
   * The 'upgrade' listener: never throws, never leaves the socket without an 'error' listener.
   * `request` is the upgrade Request if the caller built it already (undefined: built here).
   */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, request?: Request): void {
    // Node removed its own 'error' listener before emitting 'upgrade', and ws adds one only once it
    // takes the socket: a client resetting the connection meanwhile would crash the process.
    socket.on("error", destroyOnError);
    void this.#handle(req, socket, head, request ?? tryUpgradeRequest(req));
  }

  async #handle(req: IncomingMessage, socket: Duplex, head: Buffer, request: Request | undefined): Promise<void> {
    if (!request) return refuseUpgrade(socket, new Response("Bad Request", { status: 400 }));
    const routing = this.#loops.route(request, this.#perIp ? req.socket.remoteAddress : undefined);
    const outcome = isThenable(routing) ? await routing : routing;
    if (outcome instanceof Response) return refuseUpgrade(socket, outcome);
    UpgradeRequest.handedOff(request);
    try {
      if (socket.destroyed) return;
      // crossws runs the upgrade hook (which takes the routed upgrade) and ws opens the socket
      // synchronously at its end: once this resolves, the upgrade has opened or never will.
      await this.#adapterFor(outcome).handleUpgrade(req, socket, head, request);
    } finally {
      this.#loops.release(outcome);
      // ws listens for the socket's errors from its handshake on (and keeps listening once open):
      // ours would otherwise stay for the socket's life, with an array of two (~64 B).
      if (socket.listenerCount("error") > 1) socket.off("error", destroyOnError);
    }
  }

  #adapterFor(pending: PendingUpgrade): NodeAdapter {
    const size = pending.limits.maxMessageSize;
    let adapter = this.#adapters.get(size);
    if (!adapter) {
      const maxPayload = Math.min(Math.ceil(size), 2 ** 31 - 1);
      const serverOptions = {
        maxPayload,
        maxFragments: Math.max(WS_DEFAULT_MAX_FRAGMENTS, Math.ceil(maxPayload / MIN_FRAGMENT_BYTES)),
        // Pings are answered by answerPing, which never queues more than a few pongs.
        autoPong: false,
        // ws inflates a message only up to maxPayload (then closes with 1009): maxMessageSize
        // bounds the decompressed size, so a small compressed bomb cannot inflate memory.
        perMessageDeflate: this.#compression ? PER_MESSAGE_DEFLATE : false,
        // ws' set of its clients costs a Set entry and a 'close' closure per socket; crossws never
        // reads it (wsloop tracks its own sockets), and ws closes the server at once without it.
        clientTracking: false,
      };
      // wsloop keeps each socket alive with its own idleTimeout; crossws' sweep is turned off.
      adapter = nodeAdapter({ hooks: this.#hooks, idleTimeout: 0, serverOptions, getNamespace: wsloopNamespace });
      this.#adapters.set(size, adapter);
    }
    return adapter;
  }

  /** Settles once telemetry is loaded (at once without it). */
  get ready(): Promise<void> {
    return this.#loops.ready;
  }

  stats(): ServerStats {
    return this.#loops.stats();
  }

  /** Refuses new upgrades (503), closes every socket with 1001, resolves once each `onClose` ran. */
  async close(options?: CloseOptions): Promise<void> {
    await this.#loops.closeAll(options);
    await Promise.all([...this.#adapters.values()].map((adapter) => adapter.close()));
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

// Pings are answered with at most PONGS_IN_FLIGHT pongs waiting to be written; past that (the
// client is not reading), later pings only replace the payload to answer (RFC 6455 §5.5.3 allows
// answering the latest ping only). ws' own auto-pong queued one per ping: a ping flood grew memory
// without bound. One pong at a time answered only the first and last of a burst (Autobahn 2.10).
const PONGS_IN_FLIGHT = 16;
const pongs = new WeakMap<NodeWebSocket, { inFlight: number; next: Uint8Array | undefined }>();

function answerPing(ws: NodeWebSocket, data: Uint8Array): void {
  let entry = pongs.get(ws);
  if (!entry) {
    entry = { inFlight: 0, next: undefined };
    pongs.set(ws, entry);
  }
  if (entry.inFlight >= PONGS_IN_FLIGHT) {
    entry.next = data;
    return;
  }
  const state = entry;
  const written = (error?: Error): void => {
    state.inFlight--;
    const next = state.next;
    state.next = undefined;
    if (!error && next && ws.readyState === OPEN) pong(next);
    else if (state.inFlight === 0) pongs.delete(ws);
  };
  const pong = (payload: Uint8Array): void => {
    state.inFlight++;
    ws.pong(payload, false, written);
  };
  if (ws.readyState === OPEN) pong(data);
  else if (state.inFlight === 0) pongs.delete(ws);
}

/**
 * ws reports a protocol error (invalid UTF-8, a reserved opcode, an oversize message) with the close
 * code it sends, then 'close' with 1006 because the client sent no close frame: the session hears
 * the code that actually closed the socket. ws' Receiver (a Writable) keeps that error as its
 * `errored`, so no 'error' listener per socket is needed to catch it (~90 B per connection).
 */
function closeSent(peer: Peer): { code: number; reason: string } | undefined {
  const error = (socketOf(peer) as NodeWebSocket)._receiver?.errored;
  const code = error ? statusCodeOf(error) : undefined;
  return code === undefined ? undefined : { code, reason: (error as Error).message };
}

/** ws keeps the close code of a protocol error under a private `Symbol("status-code")`. */
function statusCodeOf(error: Error): number | undefined {
  const key = Object.getOwnPropertySymbols(error).find((symbol) => symbol.description === "status-code");
  const code = key ? (error as unknown as Record<symbol, unknown>)[key] : undefined;
  return typeof code === "number" ? code : undefined;
}
