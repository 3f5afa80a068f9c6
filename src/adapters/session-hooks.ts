// The crossws hooks that run a Session on each peer, from open to close.
import type { Hooks, Peer } from "crossws";
import { Session } from "../core/session.ts";
import type { PendingUpgrade } from "../core/upgrade.ts";
import type { SessionSet } from "./live-sessions.ts";
import type { PeerOptions } from "./loops.ts";
import type { OpenSocket, OpenSockets } from "./open-sockets.ts";
import { KEY, socketOf } from "./peer-context.ts";
import { transportFor } from "./peer-transport.ts";

/** What a server tracks of its sockets: for shutdown, and to know when an accepted upgrade opened. */
export interface Registry {
  /** Sessions whose loop has not finished. */
  readonly sessions: SessionSet;
  /** Transports the runtime has not reported closed. */
  readonly sockets: OpenSockets;
  /** A socket opened for `pending`, and its session is registered. */
  opened(pending: PendingUpgrade, session: Session): void;
  /** The session's loop finished (it has left `sessions`). */
  finished?(session: Session): void;
}

/** The hooks that run a Session for each peer, from open to close, tracked in `registry` if given. */
export function sessionHooks(options: PeerOptions, registry?: Registry): Partial<Hooks> {
  const { watchClose } = options;
  const forget = registry
    ? (session: Session) => {
        registry.sessions.delete(session);
        registry.finished?.(session);
      }
    : undefined;
  const sessions = registry?.sessions;
  const stats = options.stats;
  return {
    open(peer) {
      const pending = peer.context[KEY] as PendingUpgrade;
      const transport = transportFor(peer, options);
      const session = new Session(pending, transport, forget);
      peer.context[KEY] = session;
      sessions?.add(session);
      registry?.sockets.add(transport);
      registry?.opened(pending, session);
      options.keepAddress?.(peer);
      watchClose?.(peer, session);
      // Registered first: a loop that ends inside onInit then leaves the registry as well.
      session.start();
    },
    message(peer, message) {
      const session = peer.context[KEY] as Session;
      const data = message.rawData as unknown;
      if (typeof data === "string") {
        stats?.received(data);
        session.text(data);
      } else {
        const bytes = toBytes(data);
        stats?.received(bytes);
        session.binary(bytes);
      }
    },
    ping(peer) {
      (peer.context[KEY] as Session).heard();
    },
    pong(peer) {
      (peer.context[KEY] as Session).heard();
    },
    close(peer, details) {
      const session = peer.context[KEY];
      // Not a Session: the socket never opened (its context still holds the upgrade).
      if (registry && session instanceof Session) registry.sockets.delete(session.connection.transport as OpenSocket);
      // The adapter's own close listener reports it (and lets go of the session).
      if (watchClose) return;
      // The runtime may keep the closed socket (and the peer) for a while: it need not keep the session.
      peer.context[KEY] = undefined;
      // 1005: the close frame carried no code (RFC 6455 §7.1.5).
      if (session instanceof Session) session.closed(details.code ?? 1005, details.reason ?? "");
    },
  };
}

/** Node and Bun hand us Buffers (already Uint8Arrays), Deno an ArrayBuffer: neither is copied. */
function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`wsloop: unexpected binary frame type ${Object.prototype.toString.call(data)}`);
}

/**
 * crossws reports Deno's close without its code: this reads it off the socket's own close event.
 * Deno says 0 for a connection lost without a close frame, which RFC 6455 calls 1006.
 *
 * Deno keeps a closed socket, with its listeners and so crossws' peer, until its idle timeout
 * (120 s by default): once closed, the peer lets go of everything it holds (the request and its
 * headers, the context, the topics) and the listener removes itself, so only the socket stays.
 */
export function closeFromSocket(peer: Peer, _session: Session): void {
  const socket = socketOf(peer) as WebSocket;
  // One listener for every socket, and the peer in a WeakMap: no closure per connection.
  closingPeers.set(socket, peer);
  socket.addEventListener("close", onSocketClose, { once: true });
}

const closingPeers = new WeakMap<object, Peer>();

function onSocketClose(event: CloseEvent): void {
  const socket = event.currentTarget as WebSocket;
  const peer = closingPeers.get(socket);
  if (!peer) return;
  closingPeers.delete(socket);
  // The close hook (crossws' own listener, which ran first) left the session in the context for this.
  const session = peer.context[KEY];
  peer.context[KEY] = undefined;
  if (session instanceof Session) session.closed(event.code || 1006, event.reason);
  const internal = peer as unknown as {
    _internal: { ws: WebSocket; namespace?: string; remoteAddress?: string; context?: Record<string, unknown> };
    _topics?: Set<string>;
  };
  // The address stays readable (connection.remoteAddress), as on Node and Bun: the context keeps the port.
  const { namespace, remoteAddress, context } = internal._internal;
  internal._internal = { ws: socket, namespace, remoteAddress, context };
  internal._topics = new Set();
}
