import { header } from "./header.ts";
import { unref } from "./keepalive.ts";
import { clientAddressOf } from "./proxies.ts";
import type { Result, SendError } from "./result.ts";
import { textExceeds, utf8Length } from "./size.ts";
import type { Stats } from "./stats.ts";
import type { Limits } from "./upgrade.ts";

/**
 * A WebSocket connection: pass it to `sendText` / `sendBinary`. Opaque otherwise.
 *
 * @example
 * ```ts
 * function onInit(connection: Connection, deps: Deps): [State] {
 *   const user = new URL(connection.request.url).searchParams.get("user");
 *   return [{ user, id: connection.id }];
 * }
 * ```
 */
export interface Connection {
  /** Type-only brand: only wsloop makes Connections, so a look-alike object does not compile; no such property exists. */
  readonly "~wsloop.connection": true;
  /** Unique within the process (and, with overwhelming probability, across processes). */
  readonly id: string;
  /** The HTTP request that was upgraded. */
  readonly request: Request;
  /** The negotiated subprotocol, or "" when none was. */
  readonly protocol: string;
  /**
   * The peer's IP address and port as the runtime sees them: behind a proxy, the proxy's. Undefined
   * where the runtime does not tell (a Unix socket, `wsloop/testing`, a crossws host on Bun or Deno).
   */
  readonly remoteAddress: RemoteAddress | undefined;
  /**
   * The client's IP address: the peer's, or, when the peer is one of the endpoint's
   * `trustedProxies`, the address they name in X-Forwarded-For. Computed on each read.
   */
  readonly clientAddress: string | undefined;
}

/**
 * An IP address and port. IPv6 addresses have no brackets; an IPv4 client of a dual-stack listener
 * may appear as `::ffff:127.0.0.1`.
 *
 * @example
 * ```ts
 * const peer: RemoteAddress | undefined = connection.remoteAddress;
 * if (peer) console.log(`${peer.address} port ${peer.port}`);
 * ```
 */
export interface RemoteAddress {
  /** The IP address, e.g. "127.0.0.1" or "2001:db8::1". */
  readonly address: string;
  /** The peer's TCP port. */
  readonly port: number;
}

/** What the loop needs from a runtime's socket. Adapters and `wsloop/testing` provide it. */
export interface Transport {
  /**
   * A string goes out as a text frame, bytes as a binary frame. Returns true once the runtime
   * took the frame, false (or throws) when it dropped it because the socket is gone.
   */
  send(data: string | Uint8Array): boolean;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the TCP connection without a handshake, for a peer that stopped reading. */
  terminate(): void;
  /** Sends a ping frame. Absent where the runtime keeps connections alive itself (Deno). */
  ping?(): void;
  /**
   * Stop and restart reading the socket, so TCP slows the client down (flow control). Absent where
   * the runtime cannot (Deno). Frames the runtime had already read may still arrive after `pause`.
   */
  pause?(): void;
  resume?(): void;
  /**
   * Where the runtime fans a frame out to many sockets natively (Bun's topics): `subscribe` and
   * `unsubscribe` this socket, and `hub.publish` to every subscribed socket at once.
   */
  native?: NativeTopics;
  /** Bytes queued for sending and not yet written to the network. */
  readonly bufferedAmount: number;
  /** The peer's address, read when asked for (absent where the runtime does not tell). */
  readonly remoteAddress?: RemoteAddress | undefined;
  /** The server's counters (shared by its transports); absent outside a server (wsloop/testing). */
  readonly stats?: Stats | undefined;
}

/** A runtime's own topics, such as Bun's `ws.subscribe` and `server.publish`. */
export interface NativeTopics {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** The same object for every socket of one server: it publishes to all of them. */
  readonly hub: { publish(topic: string, data: string | Uint8Array): void };
}

/** Something a connection belongs to until it leaves or closes (a broker's frame topic, a presence entry). */
export interface Membership {
  /** `connection` leaves it: one membership may stand for many connections (a frame topic). */
  leave(connection: LiveConnection): void;
}

const SENT: Result<void, SendError> = Object.freeze({ ok: true, value: undefined });
const CLOSED: Result<void, SendError> = Object.freeze({ ok: false, error: Object.freeze({ type: "closed" }) });

/** The runtime side of a {@link Connection}. */
export class LiveConnection implements Connection {
  declare readonly "~wsloop.connection": true;
  /** False once the socket is closing or closed: sends then fail with "closed". */
  open = true;
  /** Bytes refused with "backpressure" since the buffer was last below maxBufferedAmount. */
  refused = 0;
  /** Left when the connection closes; created on the first join. */
  memberships: Membership[] | undefined;

  constructor(
    /** The connection's number in this process; its id is made from it when first read. */
    serial: number,
    readonly request: Request,
    readonly protocol: string,
    readonly transport: Transport,
    readonly limits: Limits,
    /** Told to close once the client is `slowConsumerLimit` bytes behind (the connection's loop). */
    readonly owner: { closeWith(code: number, reason: string): void },
  ) {
    this.#id = serial;
  }

  /** True for a connection wsloop made (a brand check on a private field: cheaper than instanceof here). */
  static is(value: Connection): value is LiveConnection {
    return typeof value === "object" && value !== null && #gone in value;
  }

  /** Unique within the process (and, with overwhelming probability, across processes). */
  get id(): string {
    if (typeof this.#id === "number") this.#id = `${processPrefix()}-${this.#id.toString(36)}`;
    return this.#id;
  }

  get remoteAddress(): RemoteAddress | undefined {
    return this.transport.remoteAddress;
  }

  get clientAddress(): string | undefined {
    const peer = this.transport.remoteAddress?.address;
    const trust = this.limits.proxies;
    return peer === undefined || !trust ? peer : clientAddressOf(peer, header(this.request, "x-forwarded-for"), trust);
  }

  /** Starts the closing handshake; a client that has not finished it within CLOSE_GRACE_MS is dropped. */
  close(code: number, reason: string): void {
    this.open = false;
    if (this.#gone || this.#graceTimer !== undefined) return;
    // The server closes first: its code is the one counted (not the client's echo), and null marks it.
    this.#graceTimer = null;
    this.transport.stats?.closed(code, this);
    try {
      this.transport.close(code, reason);
    } catch {
      // Already closed underneath us: the adapter reports that close on its own.
    }
    if (this.#gone) return;
    // A client that stopped reading, or ignores the close frame, must not keep the socket.
    this.#graceTimer = setTimeout(() => {
      if (this.#gone) return;
      try {
        this.transport.terminate();
      } catch {
        // Gone already.
      }
    }, CLOSE_GRACE_MS);
    unref(this.#graceTimer);
  }

  /** The runtime reported the socket closed with `code`. */
  closed(code: number): void {
    if (!this.#gone && this.#graceTimer === undefined) this.transport.stats?.closed(code, this);
    this.open = false;
    this.#gone = true;
    clearTimeout(this.#graceTimer ?? undefined);
  }

  /** Leaves every topic it joined (its loop ended). */
  leaveAll(): void {
    // Most connections joined nothing: no copy for them.
    if (this.memberships === undefined) return;
    // Leaving removes the membership from the array: walk a copy.
    for (const membership of [...this.memberships]) membership.leave(this);
  }

  #id: number | string;
  #gone = false;
  /** null from the server's close until the grace timer is set. */
  #graceTimer: ReturnType<typeof setTimeout> | null | undefined;
}

/** How long a client the server closed gets to finish the closing handshake before it is dropped. */
export const CLOSE_GRACE_MS = 2000;

/**
 * Sends a text frame. Returns an error value, never throws.
 *
 * @example
 * ```ts
 * const sent = sendText(connection, "hello");
 * if (!sent.ok && sent.error.type === "backpressure") skipped++;
 * ```
 */
export function sendText(connection: Connection, text: string): Result<void, SendError> {
  // Not one of ours (a copy or a mock): no socket to send on, and sends never throw.
  if (!LiveConnection.is(connection)) return CLOSED;
  const live = connection;
  const limit = live.limits.maxMessageSize;
  if (live.open && textExceeds(text, limit)) return tooLarge(utf8Length(text), limit);
  return send(live, text);
}

/**
 * Sends a binary frame. The bytes are not copied: do not change them until the frame is sent.
 *
 * @example
 * ```ts
 * sendBinary(connection, new Uint8Array([1, 2, 3]));
 * ```
 */
export function sendBinary(connection: Connection, data: Uint8Array): Result<void, SendError> {
  if (!LiveConnection.is(connection)) return CLOSED;
  const live = connection;
  const limit = live.limits.maxMessageSize;
  if (live.open && data.byteLength > limit) return tooLarge(data.byteLength, limit);
  return send(live, data);
}

/** Sends a frame with every check of sendText/sendBinary but the size: what brokers use to fan out. */
export function send(live: LiveConnection, data: string | Uint8Array): Result<void, SendError> {
  if (!live.open) return CLOSED;
  const bufferedAmount = live.transport.bufferedAmount;
  if (bufferedAmount > live.limits.maxBufferedAmount) return refuse(live, data, bufferedAmount);
  live.refused = 0;
  let sent: boolean;
  try {
    sent = live.transport.send(data);
  } catch {
    // Runtimes throw when the socket went away between our check and the write.
    sent = false;
  }
  if (sent) return SENT;
  live.open = false;
  return CLOSED;
}

function refuse(live: LiveConnection, data: string | Uint8Array, bufferedAmount: number): Result<void, SendError> {
  live.refused += typeof data === "string" ? utf8Length(data) : data.byteLength;
  const stats = live.transport.stats;
  if (bufferedAmount + live.refused > live.limits.slowConsumerLimit) {
    if (stats) stats.slowConsumers++;
    live.owner.closeWith(1008, "Slow consumer");
    return CLOSED;
  }
  if (stats) stats.backpressure++;
  return { ok: false, error: { type: "backpressure", bufferedAmount } };
}

function tooLarge(size: number, limit: number): Result<void, SendError> {
  return { ok: false, error: { type: "too_large", size, limit } };
}

let counter = 0;
let prefix: string | undefined;

/** Made at the first id read, not at load: Workers refuse random values in a module's global scope. */
function processPrefix(): string {
  prefix ??= crypto.randomUUID().slice(0, 8);
  return prefix;
}

/** A process-unique serial, made into an id (without the cost of a UUID) when the app reads one. */
export function nextConnectionSerial(): number {
  return ++counter;
}
