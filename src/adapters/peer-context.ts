// What wsloop keeps on a crossws peer: its context key, and the runtime socket under it.
import type { Peer } from "crossws";

/** The key under which a peer's context holds its PendingUpgrade, then its Session. */
export const KEY = "wsloop";

/** The runtime's socket under a crossws peer, without `peer.websocket` (a Proxy, made once and kept). */
export function socketOf(peer: Peer): object {
  return (peer as unknown as { _internal: { ws: object } })._internal.ws;
}
