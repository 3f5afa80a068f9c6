import type { Result, SendError } from "./result.ts";
import { textExceeds, utf8Length } from "./size.ts";

/** A WebSocket connection: pass it to `sendText` / `sendBinary`. Opaque otherwise. */
export interface Connection {
  /** Unique within the process (and, with overwhelming probability, across processes). */
  readonly id: string;
  /** The HTTP request that was upgraded. */
  readonly request: Request;
  /** The negotiated subprotocol, or "" when none was. */
  readonly protocol: string;
}

/** What the loop needs from a runtime's socket. Adapters and `wsloop/testing` provide it. */
export interface Transport {
  /** A string goes out as a text frame, bytes as a binary frame. May throw if the socket is gone. */
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes queued for sending and not yet written to the network. */
  readonly bufferedAmount: number;
}

const SENT: Result<void, SendError> = Object.freeze({ ok: true, value: undefined });
const CLOSED: Result<void, SendError> = Object.freeze({ ok: false, error: Object.freeze({ type: "closed" }) });

/** The runtime side of a {@link Connection}. */
export class LiveConnection implements Connection {
  /** False once the socket is closing or closed: sends then fail with "closed". */
  open = true;

  constructor(
    readonly id: string,
    readonly request: Request,
    readonly protocol: string,
    readonly transport: Transport,
    readonly maxMessageSize: number,
    readonly maxBufferedAmount: number,
  ) {}
}

/** Sends a text frame. Returns an error value, never throws. */
export function sendText(connection: Connection, text: string): Result<void, SendError> {
  const live = connection as LiveConnection;
  if (live.open && textExceeds(text, live.maxMessageSize)) return tooLarge(utf8Length(text), live.maxMessageSize);
  return send(live, text);
}

/** Sends a binary frame. The bytes are not copied: do not change them until the frame is sent. */
export function sendBinary(connection: Connection, data: Uint8Array): Result<void, SendError> {
  const live = connection as LiveConnection;
  if (live.open && data.byteLength > live.maxMessageSize) return tooLarge(data.byteLength, live.maxMessageSize);
  return send(live, data);
}

function send(live: LiveConnection, data: string | Uint8Array): Result<void, SendError> {
  if (!live.open) return CLOSED;
  const bufferedAmount = live.transport.bufferedAmount;
  if (bufferedAmount > live.maxBufferedAmount) {
    return { ok: false, error: { type: "backpressure", bufferedAmount } };
  }
  try {
    live.transport.send(data);
  } catch {
    // Runtimes throw when the socket went away between our check and the write.
    live.open = false;
    return CLOSED;
  }
  return SENT;
}

function tooLarge(size: number, limit: number): Result<void, SendError> {
  return { ok: false, error: { type: "too_large", size, limit } };
}

let counter = 0;
const prefix = crypto.randomUUID().slice(0, 8);

/** A process-unique id without the cost of a UUID per connection. */
export function nextConnectionId(): string {
  return `${prefix}-${(++counter).toString(36)}`;
}
