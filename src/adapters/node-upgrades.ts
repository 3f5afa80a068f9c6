// How wsloop takes WebSocket upgrades on Node: the app decides first (on a Request like Bun's and
// Deno's), then `ws` performs the handshake with the endpoint's limits and wsloop drives its socket.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Peer } from "crossws";
import { type WebSocket, WebSocketServer } from "ws";
import { isThenable } from "../core/thenable.ts";
import type { PendingUpgrade } from "../core/upgrade.ts";
import { LentMarker, ownResponse } from "./lent-marker.ts";
import { createLoops, type Loops } from "./loops.ts";
import { refuseUpgrade } from "./node-http.ts";
import { NodeListeners, NodePeer, type NodePeerHooks } from "./node-peer.ts";
import { tryUpgradeRequest, UpgradeRequest } from "./node-upgrade-request.ts";
import type { CloseOptions, FetchHandler, ServerLimits, ServerStats } from "./types.ts";

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
  readonly #onError: (error: unknown) => void;
  // ws' maxPayload is per WebSocketServer: one per message size limit in use, so ws stops
  // reading a message at the endpoint's maxMessageSize (1009), not at 100 MiB.
  readonly #servers = new Map<number, WebSocketServer>();
  readonly #hooks: NodePeerHooks;
  readonly #listeners: NodeListeners;
  readonly #compression: boolean;
  /** Whether upgrades need the client's address before the app runs (maxConnectionsPerIp). */
  readonly #perIp: boolean;
  /** What upgradeWebSocket answers for this server's upgrades: one Response, not one per upgrade. */
  readonly #markers = new LentMarker();
  /**
   * The upgrade ws is performing: ws asks for its subprotocol, emits 'headers' and opens its socket
   * synchronously inside handleUpgrade (there is no verifyClient), so no closure per upgrade.
   */
  #upgrading: { pending: PendingUpgrade; req: IncomingMessage } | undefined;

  constructor(fetch: FetchHandler, onError: (error: unknown) => void, limits: ServerLimits = {}, compression = false) {
    this.#compression = compression;
    this.#onError = onError;
    this.#loops = createLoops(fetch, { ...limits, onError, canPing: true, ownTransport: NodePeer.transport });
    this.#hooks = this.#loops.hooks as NodePeerHooks;
    this.#listeners = new NodeListeners(this.#hooks);
    this.#perIp = limits.maxConnectionsPerIp !== undefined;
  }

  /**
   * The 'upgrade' listener: never throws, never leaves the socket without an 'error' listener.
   * `request` is the upgrade Request if the caller built it already (undefined: built here).
   */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, request?: Request): void {
    // Node removed its own 'error' listener before emitting 'upgrade', and ws adds one only once it
    // takes the socket: a client resetting the connection meanwhile would crash the process.
    socket.on("error", destroyOnError);
    this.#handle(req, socket, head, request ?? tryUpgradeRequest(req)).catch((error: unknown) => {
      // A fault of wsloop's own: this socket goes, the server stays.
      this.#onError(error);
      socket.destroy();
    });
  }

  async #handle(req: IncomingMessage, socket: Duplex, head: Buffer, request: Request | undefined): Promise<void> {
    if (!request) return refuseUpgrade(socket, new Response("Bad Request", { status: 400 }));
    const lent = this.#markers.lend(request);
    let outcome: Response | PendingUpgrade;
    try {
      const routing = this.#loops.route(request, this.#perIp ? req.socket.remoteAddress : undefined, true);
      outcome = isThenable(routing) ? await routing : routing;
    } finally {
      this.#markers.giveBack(lent, request);
    }
    if (outcome instanceof Response) return refuseUpgrade(socket, ownResponse(outcome));
    UpgradeRequest.handedOff(request);
    try {
      if (socket.destroyed) return;
      // ws opens the socket synchronously at the end of handleUpgrade (then `#open` has run), or
      // has answered the client (400) or dropped the socket: either way the handoff is over.
      this.#upgrading = { pending: outcome, req };
      this.#serverFor(outcome).handleUpgrade(req, socket, head, this.#open);
    } finally {
      this.#upgrading = undefined;
      this.#loops.release(outcome);
      // ws listens for the socket's errors from its handshake on (and keeps listening once open):
      // ours would otherwise stay for the socket's life, with an array of two (~64 B).
      if (socket.listenerCount("error") > 1) socket.off("error", destroyOnError);
    }
  }

  /** ws' callback for the upgrade it performs: the socket is open. */
  readonly #open = (ws: WebSocket): void => {
    const upgrading = this.#upgrading;
    if (!upgrading) return void ws.terminate();
    // The address is read now: Node asks the OS on the first read, and cannot once the socket closed.
    const { remoteAddress, remotePort } = upgrading.req.socket;
    const peer = new NodePeer(ws, upgrading.pending, remoteAddress, remotePort);
    this.#listeners.listen(peer);
    this.#hooks.open(peer as unknown as Peer);
  };

  #serverFor(pending: PendingUpgrade): WebSocketServer {
    const size = pending.limits.maxMessageSize;
    let server = this.#servers.get(size);
    if (!server) {
      const maxPayload = Math.min(Math.ceil(size), 2 ** 31 - 1);
      server = new WebSocketServer({
        noServer: true,
        maxPayload,
        maxFragments: Math.max(WS_DEFAULT_MAX_FRAGMENTS, Math.ceil(maxPayload / MIN_FRAGMENT_BYTES)),
        // Pings are answered by answerPing, which never queues more than a few pongs.
        autoPong: false,
        // ws inflates a message only up to maxPayload (then closes with 1009): maxMessageSize
        // bounds the decompressed size, so a small compressed bomb cannot inflate memory.
        perMessageDeflate: this.#compression ? PER_MESSAGE_DEFLATE : false,
        // ws' set of its clients costs a Set entry and a 'close' closure per socket; wsloop
        // tracks its own sockets, and ws closes the server at once without it.
        clientTracking: false,
        // The endpoint chose among the client's offers already (ws asks only when there are some).
        handleProtocols: () => this.#upgrading?.pending.protocol || false,
      });
      server.on("headers", this.#addHeaders);
      this.#servers.set(size, server);
    }
    return server;
  }

  /** The endpoint's `headers`, validated by upgradeWebSocket, on the 101. */
  readonly #addHeaders = (lines: string[]): void => {
    const headers = this.#upgrading?.pending.headers;
    if (headers) for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  };

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
    await Promise.all([...this.#servers.values()].map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}
