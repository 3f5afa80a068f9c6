// What a crossws Node peer keeps once wsloop's session has opened on it.
import type { Peer } from "crossws";
import { keepNodeAddress } from "./peer-address.ts";

/** The fields of crossws' NodePeer `_internal` (crossws 0.4) this file reads or replaces. */
interface NodePeerInternal {
  nodeReq: OpenedRequest | UpgradedMessage;
  request: unknown;
  peers?: Set<Peer>;
  readonly ws: NodeWebSocket;
  readonly hooks: { callHook(name: "ping" | "pong" | "error", peer: Peer, arg: unknown): unknown };
}

/** ws' WebSocket, as an EventEmitter. */
interface NodeWebSocket {
  [kPeer]?: Peer;
  removeAllListeners(event: string): void;
  on(event: string, listener: (this: NodeWebSocket, arg: never) => void): void;
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
 * by themselves). Each is let go; `peer.request` answers wsloop's upgrade Request. The socket's
 * address is read first, to stay readable after the close.
 */
export function slimNodePeer(peer: Peer): void {
  keepNodeAddress(peer);
  const fields = peer as unknown as NodePeerFields;
  const internal = fields._internal;
  const message = internal.nodeReq;
  if (!message || message instanceof OpenedRequest) return;
  internal.nodeReq = new OpenedRequest(message.socket, message._context);
  if (message._request !== undefined) internal.request = message._request;
  internal.peers?.delete(peer);
  fields._topics = NO_TOPICS;
  // crossws adds its listeners once this hook has returned: they are replaced right after.
  if (opened.push(peer) === 1) queueMicrotask(shareListeners);
}

/**
 * crossws listens to each socket's ping, pong and error with closures of its own (~56 B each);
 * shared listeners find the peer on the socket instead and call the same hooks (crossws' pong
 * listener also skips its own heartbeat's pongs, which wsloop's idleTimeout: 0 never sends).
 */
const kPeer = Symbol("wsloop.peer");
const opened: Peer[] = [];

function shareListeners(): void {
  for (const peer of opened) {
    const ws = (peer as unknown as NodePeerFields)._internal.ws;
    // A socket that is not the ws WebSocket this expects keeps crossws' own listeners.
    if (typeof ws?.removeAllListeners !== "function") continue;
    ws[kPeer] = peer;
    for (const [event, listener] of SHARED) {
      ws.removeAllListeners(event);
      ws.on(event, listener);
    }
  }
  opened.length = 0;
}

function hookFor(name: "ping" | "pong" | "error"): (this: NodeWebSocket, arg: unknown) => void {
  return function (this: NodeWebSocket, arg: unknown): void {
    const peer = this[kPeer];
    if (peer) (peer as unknown as NodePeerFields)._internal.hooks.callHook(name, peer, arg);
  };
}

const SHARED = [
  ["ping", hookFor("ping")],
  ["pong", hookFor("pong")],
  ["error", hookFor("error")],
] as const;
