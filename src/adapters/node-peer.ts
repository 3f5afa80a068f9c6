// What a crossws Node peer keeps once wsloop's session has opened on it.
import type { Peer } from "crossws";
import { keepNodeAddress } from "./peer-address.ts";

/** The fields of crossws' NodePeer `_internal` (crossws 0.4) this file replaces. */
interface NodePeerInternal {
  nodeReq: OpenedRequest | UpgradedMessage;
  request: unknown;
  peers?: Set<Peer>;
}

/** The NodePeer itself: its `_topics` Set, made per peer. */
interface NodePeerFields {
  _internal: NodePeerInternal;
  _topics: Set<string>;
}

/** What crossws left on the IncomingMessage of an upgrade (its context and wsloop's upgrade Request). */
interface UpgradedMessage {
  readonly socket: object;
  readonly _context: Record<string, unknown>;
  readonly _request?: unknown;
}

/**
 * crossws' topics of a peer, for its publish: wsloop's brokers publish on Node without them (no
 * native topics there), so every open peer shares this one, which takes none.
 */
class NoTopics extends Set<string> {
  override add(): this {
    throw new Error("wsloop: a Node peer has no crossws topics");
  }
}
const NO_TOPICS: Set<string> = new NoTopics();

/**
 * All a NodePeer reads of its IncomingMessage once open: the socket (`remoteAddress`) and the
 * context. The message itself, with its headers, streams state and listeners, is not kept.
 */
class OpenedRequest {
  constructor(
    readonly socket: object,
    readonly _context: Record<string, unknown>,
  ) {}
}

/**
 * Runs at open, for sockets wsloop's own Node adapter upgraded. crossws' peer keeps the upgrade's
 * IncomingMessage for as long as the socket lives (~700 B with its headers and stream state), a
 * request proxy of its own (NodeReqProxy, ~150 B with its URL and headers) beside wsloop's
 * upgrade Request, an entry in its peer set and a Set of topics, which only its publish and close
 * read (wsloop uses neither on Node: it tracks and closes its own sockets, and its brokers publish
 * by themselves). Each is let go; `peer.request` answers wsloop's upgrade Request. The socket's address is read first, to stay readable after
 * the close.
 */
export function slimNodePeer(peer: Peer): void {
  keepNodeAddress(peer);
  const fields = peer as unknown as NodePeerFields;
  const internal = fields._internal;
  const message = internal.nodeReq;
  if (message instanceof OpenedRequest) return;
  internal.nodeReq = new OpenedRequest(message.socket, message._context);
  if (message._request !== undefined) internal.request = message._request;
  internal.peers?.delete(peer);
  fields._topics = NO_TOPICS;
}
