// ws' WebSocket driven directly: the peer sessionHooks read, and the listeners that feed it.
import type { Hooks, Message, Peer } from "crossws";
import type { WebSocket } from "ws";
import type { RemoteAddress } from "../core/connection.ts";
import type { PeerOptions } from "./loops.ts";
import { answerPing, closeSentBy } from "./node-socket.ts";
import { OwnPeer } from "./own-peer.ts";
import { KEY } from "./peer-context.ts";
import { sendResult } from "./peer-transport.ts";

/** The session hooks a NodePeer feeds (sessionHooks': none of them returns a promise). */
export type NodePeerHooks = Required<Pick<Hooks, "open" | "message" | "close" | "ping" | "pong">>;

/**
 * A `ws` WebSocket as the crossws peer wsloop's session hooks read (its context), and as its
 * Transport. crossws' Node adapter made a peer per socket with a request proxy, an entry in its
 * peer set, a Set of topics and six listeners (closures) of its own, kept the upgrade's
 * IncomingMessage for the socket's life, and ran an async hook pipeline per upgrade; wsloop then
 * wrapped that peer in a transport. Here one object per socket is the peer, its context (the
 * session under KEY) and its transport, and the socket's listeners are shared by all sockets.
 */
export class NodePeer extends OwnPeer<WebSocket> {
  /** Read at the upgrade: Node cannot tell a socket's address once it closed. */
  readonly #address: string | undefined;
  readonly #port: number | undefined;

  constructor(ws: WebSocket, pending: unknown, address: string | undefined, port: number | undefined) {
    super(ws, pending);
    this.#address = address;
    this.#port = port;
  }

  get remoteAddress(): RemoteAddress | undefined {
    const address = this.#address;
    const port = this.#port;
    return address !== undefined && port !== undefined ? { address, port } : undefined;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** ws compresses a frame when the client negotiated permessage-deflate (and past its threshold). */
  send(data: string | Uint8Array): boolean {
    this.ws.send(data);
    return sendResult(this.options as PeerOptions, this.ws, this[KEY], data, undefined);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  ping(): void {
    try {
      this.ws.ping();
    } catch {
      // A socket going away: its close reaches the session on its own.
    }
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }
}

const kPeer = Symbol("wsloop.peer");
type PeerSocket = WebSocket & { [kPeer]?: NodePeer };

/** The listeners of a server's sockets, made once per server: each finds its peer on the socket. */
export class NodeListeners {
  readonly #message: (this: PeerSocket, data: Buffer, isBinary: boolean) => void;
  readonly #ping: (this: PeerSocket, data: Buffer) => void;
  readonly #pong: (this: PeerSocket, data: Buffer) => void;
  readonly #close: (this: PeerSocket, code: number, reason: Buffer) => void;

  constructor(hooks: NodePeerHooks) {
    this.#message = function (data, isBinary) {
      hooks.message(this[kPeer] as unknown as Peer, { rawData: isBinary ? data : data.toString() } as Message);
    };
    this.#ping = function (data) {
      answerPing(this, data);
      hooks.ping(this[kPeer] as unknown as Peer, data);
    };
    this.#pong = function (data) {
      hooks.pong(this[kPeer] as unknown as Peer, data);
    };
    this.#close = function (code, reason) {
      // After a protocol error ws says 1006 (no close frame came back): the session hears the code ws sent.
      const details = closeSentBy(this) ?? { code, reason: reason.toString() };
      hooks.close(this[kPeer] as unknown as Peer, details);
    };
  }

  /** Feeds `peer`'s socket to the hooks. */
  listen(peer: NodePeer): void {
    const ws = peer.ws as PeerSocket;
    ws[kPeer] = peer;
    ws.on("message", this.#message);
    ws.on("ping", this.#ping);
    ws.on("pong", this.#pong);
    ws.on("close", this.#close);
    // ws closes the socket itself for a protocol error (closeSentBy tells the code), and an
    // 'error' without a listener would throw: the process would end.
    ws.on("error", ignore);
  }
}

function ignore(): void {}
