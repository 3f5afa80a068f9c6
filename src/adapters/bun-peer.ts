// Bun's ServerWebSocket driven directly: its `websocket` handler and the peer sessionHooks read.
import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { Hooks, Message, Peer } from "crossws";
import { PORT_KEY } from "./peer-address.ts";
import { KEY } from "./peer-context.ts";

/** The session hooks a BunPeer feeds (sessionHooks': none of them returns a promise). */
export type BunPeerHooks = Required<Pick<Hooks, "open" | "message" | "close" | "ping" | "pong">>;

/**
 * A socket of Bun.serve as the crossws peer wsloop's session hooks read (its context, `_internal.ws`,
 * send, close, ping, bufferedAmount, remoteAddress), and its `ws.data`: crossws' Bun handlers made a
 * BunPeer per socket besides the data (with an `_internal` object and a `_topics` Set), kept it in a
 * peers Set, and made a Message per frame. The peer is also its own context (the session under KEY,
 * the client's port under PORT_KEY): one object per socket where there were two.
 */
export class BunPeer {
  /** The socket, once Bun opened it. */
  ws: ServerWebSocket<BunPeer> | undefined;
  /** The upgrade request (crossws' `peer.request`). */
  readonly request: Request;
  /** The PendingUpgrade, then the Session (see session-hooks.ts). */
  [KEY]: unknown;
  /** The client's port: Bun tells it only while the upgrade request waits for its response. */
  [PORT_KEY]: number | undefined;

  constructor(request: Request, pending: unknown, port: number | undefined) {
    this.ws = undefined;
    this.request = request;
    this[KEY] = pending;
    this[PORT_KEY] = port;
  }

  /** crossws' `peer.context`: the peer itself. */
  get context(): Record<string, unknown> {
    return this as unknown as Record<string, unknown>;
  }

  /** Where crossws' peers keep their socket (see socketOf): the peer itself. */
  get _internal(): { readonly ws: ServerWebSocket<BunPeer> | undefined } {
    return this;
  }

  /** crossws' `peer.websocket` (PeerTransport reads its readyState): the socket itself, no Proxy. */
  get websocket(): ServerWebSocket<BunPeer> | undefined {
    return this.ws;
  }

  /** Read when asked: Bun's socket keeps it after the close. */
  get remoteAddress(): string | undefined {
    return this.ws?.remoteAddress;
  }

  get bufferedAmount(): number {
    return this.ws?.getBufferedAmount() ?? 0;
  }

  /** Bun's answer: bytes sent, -1 queued under backpressure, 0 dropped or empty (see PeerTransport.send). */
  send(data: string | Uint8Array<ArrayBuffer>, options?: { compress?: boolean }): number {
    return (this.ws as ServerWebSocket<BunPeer>).send(data, options?.compress);
  }

  close(code?: number, reason?: string): void {
    this.ws?.close(code, reason);
  }

  terminate(): void {
    this.ws?.terminate();
  }

  ping(): number {
    try {
      return (this.ws as ServerWebSocket<BunPeer>).ping();
    } catch {
      // A socket going away: its close reaches the session on its own.
      return 0;
    }
  }
}

/**
 * Bun calls its close handler with 1006 after it closed a socket for a protocol error itself, with
 * the close frame it sent (1002, 1007, 1009) named only by the reason: these are uWS' reasons.
 */
export function codeSent(code: number, reason: string): number {
  if (code !== 1006) return code;
  if (reason === "Received invalid UTF-8") return 1007;
  if (reason.startsWith("Received too big message")) return 1009;
  if (reason.startsWith("Received ")) return 1002;
  return code;
}

/**
 * Bun.serve's `websocket` for sockets whose `ws.data` is a BunPeer: each event goes straight to its
 * session hook. wsloop keeps each socket alive with its own idleTimeout: Bun's server-wide one is off.
 */
export function bunWebSocket(
  hooks: BunPeerHooks,
  options: { maxPayloadLength: number; perMessageDeflate: boolean },
): WebSocketHandler<BunPeer> {
  return {
    maxPayloadLength: options.maxPayloadLength,
    perMessageDeflate: options.perMessageDeflate,
    idleTimeout: 0,
    open(ws) {
      const peer = ws.data;
      peer.ws = ws;
      hooks.open(peer as unknown as Peer);
    },
    message(ws, message) {
      hooks.message(ws.data as unknown as Peer, { rawData: message } as Message);
    },
    close(ws, code, reason) {
      hooks.close(ws.data as unknown as Peer, { code: codeSent(code, reason), reason });
    },
    ping(ws, data) {
      hooks.ping(ws.data as unknown as Peer, data);
    },
    pong(ws, data) {
      hooks.pong(ws.data as unknown as Peer, data);
    },
  };
}
