// A crossws peer as the loop's Transport, with what the runtime adds: pings, pausing, native topics.
import type { Peer } from "crossws";
import type { NativeTopics, RemoteAddress } from "../core/connection.ts";
import { Session } from "../core/session.ts";
import type { Stats } from "../core/stats.ts";
import type { PeerOptions } from "./loops.ts";
import type { OpenSocket } from "./open-sockets.ts";
import { KEY, socketOf } from "./peer-context.ts";

/** The transport for `peer`: one of three classes, so a connection carries no closures of its own. */
export function transportFor(peer: Peer, options: PeerOptions): OpenSocket {
  // A peer that is its own transport (Bun's): one object per socket where there were two.
  if (options.ownTransport) return options.ownTransport(peer, options);
  if (!options.canPing) return new PeerTransport(peer, options);
  return canPause(peer) ? new FlowPeerTransport(peer, options) : new PingingPeerTransport(peer, options);
}

/**
 * A crossws peer as the loop's Transport: one class, so a connection carries no closures of its
 * own; where the runtime has native topics (Bun), also the peer's side of them.
 */
export class PeerTransport implements OpenSocket, NativeTopics {
  readonly #options: PeerOptions;
  /** Its place among the server's open sockets (see OpenSockets). */
  openPrev: OpenSocket | undefined = undefined;
  openNext: OpenSocket | undefined = undefined;

  constructor(
    protected readonly peer: Peer,
    options: PeerOptions,
  ) {
    this.#options = options;
  }

  get native(): NativeTopics | undefined {
    return this.#options.hub ? this : undefined;
  }

  get hub(): NativeTopics["hub"] {
    return this.#options.hub as NativeTopics["hub"];
  }

  /**
   * Bun's ws.subscribe, on the socket itself: crossws' peer.subscribe would also keep the topic in
   * a Set of the peer's own (~200 B of RSS per subscribed socket on Bun), which wsloop never reads
   * (its brokers know their members, and publish through the server).
   */
  subscribe(topic: string): void {
    (socketOf(this.peer) as NativeSocket).subscribe(topic);
  }

  unsubscribe(topic: string): void {
    (socketOf(this.peer) as NativeSocket).unsubscribe(topic);
  }

  get remoteAddress(): RemoteAddress | undefined {
    return this.#options.remoteAddress?.(this.peer);
  }

  send(data: string | Uint8Array): boolean {
    const result = this.#options.compress ? this.peer.send(data, COMPRESS) : this.peer.send(data);
    return sendResult(this.#options, this.peer.websocket, this.peer.context[KEY], data, result);
  }

  close(code: number, reason: string): void {
    this.peer.close(code, reason);
  }

  terminate(): void {
    const terminate = this.#options.terminate;
    if (terminate) terminate(this.peer);
    else this.peer.terminate();
  }

  get bufferedAmount(): number {
    return this.peer.bufferedAmount;
  }

  /** The server's counters, shared by its transports. */
  get stats(): Stats | undefined {
    return this.#options.stats;
  }
}

/**
 * Whether the runtime took a frame, from what its send answered (`result`); where that is Bun's
 * bytes count (sendAnswersBytes), 0 for an open socket means it is over Bun's backpressureLimit:
 * its `session` is closed as a slow consumer.
 */
export function sendResult(
  options: PeerOptions,
  socket: { readonly readyState?: number } | undefined,
  session: unknown,
  data: string | Uint8Array,
  result: unknown,
): boolean {
  if (result !== 0 || !options.sendAnswersBytes) {
    // Counted here rather than in the loop's send: what wsloop/testing runs pays nothing for it.
    options.stats?.sent(data);
    return true;
  }
  // Bun's 0: a closing or closed socket dropped the frame.
  if (socket?.readyState !== OPEN) return false;
  // Open: 0 bytes is what an empty payload takes.
  if ((typeof data === "string" ? data.length : data.byteLength) === 0) {
    options.stats?.sent(data);
    return true;
  }
  // Open and dropped: the client is more than Bun's backpressureLimit behind, which is what
  // slowConsumerLimit is for: the connection is closed with 1008 (and dropped after the grace).
  // Counted once: a loop that is ending was closed already.
  if (!(session instanceof Session) || session.ending) return false;
  const stats = options.stats;
  if (stats) stats.slowConsumers++;
  session.closeWith(1008, "Slow consumer");
  return false;
}

/** For runtimes that can send a ping from JavaScript (Node, Bun): the loop then keeps sockets alive. */
class PingingPeerTransport extends PeerTransport {
  ping(): void {
    this.peer.ping();
  }
}

/** crossws' send options asking for compression (Bun compresses only when asked). */
const COMPRESS = Object.freeze({ compress: true });
/** The part of a runtime's socket that stops reading: ws' WebSocket (Node), Bun's ServerWebSocket (Bun 1.4 has it). */
interface Pausable {
  pause(): void;
  resume(): void;
}

function canPause(peer: Peer): boolean {
  const socket = (peer as unknown as { _internal?: { ws?: Partial<Pausable> } })._internal?.ws;
  return typeof socket?.pause === "function";
}

/** Where the runtime can stop reading a socket (ws, Bun): flow control pauses it instead of closing. */
class FlowPeerTransport extends PingingPeerTransport {
  pause(): void {
    try {
      (socketOf(this.peer) as Pausable).pause();
    } catch {
      // The socket is going away; its close reaches the session on its own.
    }
  }

  resume(): void {
    try {
      (socketOf(this.peer) as Pausable).resume();
    } catch {
      // As above.
    }
  }
}

/** The part of Bun's ServerWebSocket that joins its native topics. */
interface NativeSocket {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/** WebSocket.OPEN, which not every runtime defines as a global. */
const OPEN = 1;
