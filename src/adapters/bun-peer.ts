// Bun's ServerWebSocket driven directly: its `websocket` handler and the peer sessionHooks read.
import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { Hooks, Message, Peer } from "crossws";
import type { NativeTopics, RemoteAddress } from "../core/connection.ts";
import type { PeerOptions } from "./loops.ts";
import { OwnPeer } from "./own-peer.ts";
import { PORT_KEY } from "./peer-address.ts";
import { KEY } from "./peer-context.ts";
import { sendResult } from "./peer-transport.ts";

/** The session hooks a BunPeer feeds (sessionHooks': none of them returns a promise). */
export type BunPeerHooks = Required<Pick<Hooks, "open" | "message" | "close" | "ping" | "pong">>;

/**
 * A socket of Bun.serve as the crossws peer wsloop's session hooks read (its context), its
 * `ws.data`, and its Transport: crossws' Bun handlers made a BunPeer per socket besides the data
 * (with an `_internal` object and a `_topics` Set), kept it in a peers Set, and made a Message per
 * frame; wsloop wrapped it in a transport of its own. The peer is also its own context (the
 * session under KEY, the client's port under PORT_KEY) and its own transport: one object per socket
 * where there were three (six fields: JSC's 64-byte cell).
 */
export class BunPeer extends OwnPeer<ServerWebSocket<BunPeer> | undefined> implements NativeTopics {
  /** The client's port: Bun tells it only while the upgrade request waits for its response. */
  [PORT_KEY]: number | undefined;

  constructor(pending: unknown, port: number | undefined) {
    super(undefined, pending);
    this[PORT_KEY] = port;
  }

  /** Read when asked: Bun's socket keeps the address after the close. */
  get remoteAddress(): RemoteAddress | undefined {
    const address = this.ws?.remoteAddress;
    const port = this[PORT_KEY];
    return address && port !== undefined ? { address, port } : undefined;
  }

  get bufferedAmount(): number {
    return this.ws?.getBufferedAmount() ?? 0;
  }

  /** Bun's answer is bytes sent, -1 queued under backpressure, 0 dropped or empty: see sendResult. */
  send(data: string | Uint8Array): boolean {
    const options = this.options as PeerOptions;
    const ws = this.ws as ServerWebSocket<BunPeer>;
    return sendResult(options, ws, this[KEY], data, ws.send(data, options.compress));
  }

  close(code: number, reason: string): void {
    this.ws?.close(code, reason);
  }

  terminate(): void {
    this.ws?.terminate();
  }

  ping(): void {
    try {
      this.ws?.ping();
    } catch {
      // A socket going away: its close reaches the session on its own.
    }
  }

  pause(): void {
    try {
      this.ws?.pause();
    } catch {
      // As above.
    }
  }

  resume(): void {
    try {
      this.ws?.resume();
    } catch {
      // As above.
    }
  }

  /** Bun's native topics: ws.subscribe on the socket itself, server.publish through the hub. */
  get native(): NativeTopics | undefined {
    return this.options?.hub ? this : undefined;
  }

  get hub(): NativeTopics["hub"] {
    return this.options?.hub as NativeTopics["hub"];
  }

  subscribe(topic: string): void {
    this.ws?.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.ws?.unsubscribe(topic);
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
