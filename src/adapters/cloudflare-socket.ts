import type { Transport } from "../core/connection.ts";
import { Session } from "../core/session.ts";
import type { PendingUpgrade } from "../core/upgrade.ts";
import { type CloudflareSocket, type ListenedSocket, switchingProtocols, workers } from "./cloudflare-types.ts";

/**
 * A Workers WebSocket as the loop's Transport. Workers cannot send a ping from JavaScript (the
 * runtime answers the client's pings and drops dead connections itself), so there is no `ping`
 * and no idle timeout; and a Workers socket has no `bufferedAmount`: sends never report
 * backpressure there.
 */
export class SocketTransport implements Transport {
  constructor(readonly socket: CloudflareSocket) {}

  send(data: string | Uint8Array): boolean {
    this.socket.send(data);
    return true;
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  /**
   * Workers cannot drop a connection without a handshake: the loop has ended already (its closed
   * notice went out when it closed the socket), so only the runtime's socket stays until it closes.
   */
  terminate(): void {}

  get bufferedAmount(): number {
    return 0;
  }
}

/** A frame from the client, to its loop: Workers hand binary frames over as ArrayBuffers. */
export function deliver(session: Session, data: string | ArrayBuffer | ArrayBufferView): void {
  if (typeof data === "string") session.text(data);
  else if (ArrayBuffer.isView(data)) session.binary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  else session.binary(new Uint8Array(data));
}

/** The client closed (or the connection dropped): the loop hears it, and the close is answered. */
export function closed(session: Session, socket: CloudflareSocket, code: number, reason: string): void {
  session.closed(code || 1005, reason);
  try {
    // Completes the closing handshake where the runtime does not by itself (older compatibility dates).
    socket.close(code === 1005 || code === 1006 || !code ? 1000 : code, reason);
  } catch {
    // Already closed.
  }
}

/**
 * Opens the socket for an accepted upgrade with the standard API (`accept()` and listeners): in a
 * Worker, or a Durable Object that stays in memory while the socket is open.
 */
export function openSocket(pending: PendingUpgrade): Response {
  const pair = new (workers().WebSocketPair)();
  const server = pair[1];
  server.accept();
  server.binaryType = "arraybuffer";
  const session = new Session(pending, new SocketTransport(server));
  listen(server, session);
  session.start();
  return switchingProtocols(pair[0], pending.protocol);
}

function listen(socket: ListenedSocket, session: Session): void {
  socket.addEventListener("message", (event: { data: string | ArrayBuffer }) => deliver(session, event.data));
  socket.addEventListener("close", (event: { code: number; reason: string }) =>
    closed(session, socket, event.code, event.reason),
  );
  // An error ends the connection without a close frame; a close event, if one follows, changes nothing.
  socket.addEventListener("error", () => session.closed(1006, ""));
}
