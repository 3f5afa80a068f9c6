// A runtime socket wsloop drives directly (Bun's, Node's ws): the crossws peer its session hooks
// read, the peer's context and its Transport, in one object per socket.
import type { Peer } from "crossws";
import type { Stats } from "../core/stats.ts";
import type { PeerOptions } from "./loops.ts";
import type { OpenSocket } from "./open-sockets.ts";
import { KEY } from "./peer-context.ts";

export abstract class OwnPeer<Socket> implements OpenSocket {
  /** The runtime's socket (Bun's: once open). */
  ws: Socket;
  /** The PendingUpgrade, then the Session (see session-hooks.ts). */
  [KEY]: unknown;
  /** The server's, set at open (see transport). */
  #options: PeerOptions | undefined;
  /** Its place among the server's open sockets (see OpenSockets). */
  openPrev: OpenSocket | undefined;
  openNext: OpenSocket | undefined;

  constructor(ws: Socket, pending: unknown) {
    this.ws = ws;
    this[KEY] = pending;
    this.#options = undefined;
    this.openPrev = undefined;
    this.openNext = undefined;
  }

  /** The session hooks' transport for such a peer (LoopsOptions.ownTransport): the peer itself. */
  static transport(this: void, peer: Peer, options: PeerOptions): OpenSocket {
    const own = peer as unknown as OwnPeer<unknown>;
    own.#options = options;
    return own;
  }

  /** The server's, once open. */
  protected get options(): PeerOptions | undefined {
    return this.#options;
  }

  /** crossws' `peer.context`: the peer itself. */
  get context(): Record<string, unknown> {
    return this as unknown as Record<string, unknown>;
  }

  /** Where crossws' peers keep their socket (see socketOf): the peer itself. */
  get _internal(): { readonly ws: Socket } {
    return this;
  }

  /** The server's counters, shared by its transports. */
  get stats(): Stats | undefined {
    return this.#options?.stats;
  }

  abstract readonly bufferedAmount: number;
  abstract send(data: string | Uint8Array): boolean;
  abstract close(code: number, reason: string): void;
  abstract terminate(): void;
}
