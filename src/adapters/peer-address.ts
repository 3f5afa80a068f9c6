// Where a peer's address comes from on each runtime, read when the app asks for it.
import type { Peer } from "crossws";
import type { RemoteAddress } from "../core/connection.ts";

/** The key of a peer's context holding its port, where the runtime tells it only at the upgrade. */
export const PORT_KEY = "wsloopPort";

/**
 * Bun and Deno: the address crossws keeps for the peer (Bun's `ws.remoteAddress`, Deno's
 * `info.remoteAddr.hostname`) and the port the adapter put in the context at the upgrade (Bun's
 * `server.requestIP`, Deno's `info.remoteAddr.port`: neither is there once the socket is open).
 */
export function contextAddress(peer: Peer): RemoteAddress | undefined {
  const address = peer.remoteAddress;
  const port = peer.context[PORT_KEY];
  return address && typeof port === "number" ? { address, port } : undefined;
}

interface NodeSocketAddress {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

function nodeSocket(peer: Peer): NodeSocketAddress | undefined {
  return (peer as unknown as { _internal: { nodeReq?: { socket?: NodeSocketAddress } } })._internal.nodeReq?.socket;
}

/** crossws' Node peers (wsloop/crossws on Node): the socket's own address and port. */
export function nodeAddress(peer: Peer): RemoteAddress | undefined {
  const socket = nodeSocket(peer);
  const address = socket?.remoteAddress;
  const port = socket?.remotePort;
  return address !== undefined && port !== undefined ? { address, port } : undefined;
}

/**
 * Node asks the OS for a socket's address on the first read and keeps it; once the socket has
 * closed there is nothing to ask. Read at open, so the app can still read it after the close.
 */
export function keepNodeAddress(peer: Peer): void {
  void nodeSocket(peer)?.remoteAddress;
}
