import type { Peer } from "crossws";
import { socketOf } from "./peer-context.ts";

/**
 * Deno's WebSocket has no terminate (crossws' call throws): closing the socket's resource drops
 * the TCP connection at once, as Deno itself does for a client that misses its idle pings.
 */
export function terminateDenoSocket(peer: Peer): void {
  const socket = socketOf(peer);
  const ridKey = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === "[[rid]]");
  const deno = (globalThis as unknown as { Deno?: Record<symbol, { core?: { tryClose?(rid: number): void } }> }).Deno;
  const internal = deno && (deno as unknown as { internal?: symbol }).internal;
  const tryClose = internal ? deno[internal]?.core?.tryClose : undefined;
  const rid = ridKey ? (socket as Record<symbol, unknown>)[ridKey] : undefined;
  if (tryClose && typeof rid === "number") tryClose(rid);
  // Without Deno's internals (a future Deno), close() is the best left: the idle timeout ends it.
  else (socket as WebSocket).close();
}
