// What wsloop adds to a `ws` WebSocket on Node: bounded pongs, and the close code of a protocol error.
import type { WebSocket } from "ws";

const OPEN = 1;

// Pings are answered with at most PONGS_IN_FLIGHT pongs waiting to be written; past that (the
// client is not reading), later pings only replace the payload to answer (RFC 6455 §5.5.3 allows
// answering the latest ping only). ws' own auto-pong queued one per ping: a ping flood grew memory
// without bound. One pong at a time answered only the first and last of a burst (Autobahn 2.10).
const PONGS_IN_FLIGHT = 16;
const pongs = new WeakMap<WebSocket, { inFlight: number; next: Buffer | undefined }>();

/** Answers a ping `ws` received (ws' autoPong is off). */
export function answerPing(ws: WebSocket, data: Buffer): void {
  let entry = pongs.get(ws);
  if (!entry) {
    entry = { inFlight: 0, next: undefined };
    pongs.set(ws, entry);
  }
  if (entry.inFlight >= PONGS_IN_FLIGHT) {
    entry.next = data;
    return;
  }
  const state = entry;
  const written = (error?: Error): void => {
    state.inFlight--;
    const next = state.next;
    state.next = undefined;
    if (!error && next && ws.readyState === OPEN) pong(next);
    else if (state.inFlight === 0) pongs.delete(ws);
  };
  const pong = (payload: Buffer): void => {
    state.inFlight++;
    ws.pong(payload, false, written);
  };
  if (ws.readyState === OPEN) pong(data);
  else if (state.inFlight === 0) pongs.delete(ws);
}

/** ws' frame parser, a Writable: `errored` is the protocol error it stopped at, if any. */
interface WithReceiver {
  readonly _receiver?: { readonly errored?: Error | null };
}

/**
 * ws reports a protocol error (invalid UTF-8, a reserved opcode, an oversize message) with the close
 * code it sends, then 'close' with 1006 because the client sent no close frame: the session hears
 * the code that actually closed the socket. ws' Receiver (a Writable) keeps that error as its
 * `errored`, so no 'error' listener of its own is needed to catch it.
 */
export function closeSentBy(ws: WebSocket): { code: number; reason: string } | undefined {
  const error = (ws as unknown as WithReceiver)._receiver?.errored;
  const code = error ? statusCodeOf(error) : undefined;
  return code === undefined ? undefined : { code, reason: (error as Error).message };
}

/** ws keeps the close code of a protocol error under a private `Symbol("status-code")`. */
function statusCodeOf(error: Error): number | undefined {
  const key = Object.getOwnPropertySymbols(error).find((symbol) => symbol.description === "status-code");
  const code = key ? (error as unknown as Record<symbol, unknown>)[key] : undefined;
  return typeof code === "number" ? code : undefined;
}
