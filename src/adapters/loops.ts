import type { Hooks, Peer } from "crossws";
import type { NativeTopics, Transport } from "../core/connection.ts";
import { Session } from "../core/session.ts";
import { type PendingUpgrade, takeUpgrade } from "../core/upgrade.ts";
import { runFetch } from "./fetch.ts";
import type { FetchHandler } from "./types.ts";

/** The key under which a peer's context holds its PendingUpgrade, then its Session. */
const KEY = "wsloop";

/** crossws hooks that run wsloop sessions, and the registry a server needs to shut down gracefully. */
export interface Loops {
  readonly hooks: Partial<Hooks>;
  /**
   * Runs the app for an upgrade request ahead of crossws, for adapters that must know the
   * upgrade's limits before handing it over: the Response to send as it is, or the accepted upgrade
   * (which the upgrade hook then takes without running the app again).
   */
  route(request: Request): Promise<Response | PendingUpgrade>;
  /**
   * For adapters that know when a handoff ended (Node opens the socket synchronously): an upgrade
   * `route` accepted will not open a socket after all, and shutdown need not wait for it.
   */
  release(pending: PendingUpgrade): void;
  /** True once closeAll was called: new upgrades get 503. */
  readonly closing: boolean;
  /**
   * Refuses new upgrades (503), closes every socket with 1001, waits for upgrades whose fetch is
   * still running (they get 503) or whose socket is about to open (it gets 1001 at once), and
   * resolves once each `onClose` settled.
   */
  closeAll(): Promise<void>;
}

export interface LoopsOptions {
  onError: (error: unknown) => void;
  /**
   * Set by runtimes whose crossws close hook lacks the close code (Deno): they report the close
   * to the session themselves, and the hook's report is ignored.
   */
  watchClose?: (peer: Peer, session: Session) => void;
  /** Leave the subprotocol out of the upgrade: the adapter puts it on the handshake response itself. */
  omitProtocol?: boolean;
  /**
   * False where the runtime cannot send pings from JavaScript (Deno): the adapter then hands the
   * idle timeout to the runtime, which pings and closes by itself.
   */
  canPing: boolean;
  /** Bun's send answers 0 when it dropped the frame because the socket is closed (Node's answers its buffer size). */
  zeroMeansDropped?: boolean;
  /** Publishes to the runtime's native topics (Bun's server.publish), which sockets join through crossws. */
  hub?: NativeTopics["hub"];
}

/** What running a session on a crossws peer depends on: the runtime's abilities. */
export type PeerOptions = Omit<LoopsOptions, "onError" | "omitProtocol">;

/** How long shutdown waits for an accepted upgrade to open its socket (Bun and Deno open it later). */
const HANDOFF_WAIT_MS = 2_000;

/** Binds the app's fetch handler to crossws: each upgrade it marks becomes a Session. */
export function createLoops(fetch: FetchHandler, options: LoopsOptions): Loops {
  const sessions = new Set<Session>();
  let closing = false;
  const { onError, omitProtocol } = options;

  const routed = new WeakMap<Request, PendingUpgrade>();
  // Upgrades whose fetch is still running, and accepted ones whose socket has not opened yet:
  // shutdown waits for both, so a socket cannot open unnoticed after closeAll resolved.
  const running = new Set<Promise<unknown>>();
  const handedOff = new Set<PendingUpgrade>();

  async function route(request: Request): Promise<Response | PendingUpgrade> {
    if (closing) return shuttingDown();
    const outcome = runFetch(fetch, request, onError);
    running.add(outcome);
    const response = await outcome.finally(() => running.delete(outcome));
    const pending = takeUpgrade(request, response);
    if (!pending) return response;
    if (closing) return shuttingDown();
    handedOff.add(pending);
    return pending;
  }

  const hooks: Partial<Hooks> = {
    async upgrade(request) {
      let pending = routed.get(request);
      if (pending) routed.delete(request);
      else {
        const outcome = await route(request);
        if (outcome instanceof Response) return outcome;
        pending = outcome;
      }
      return upgradeOutcome(pending, omitProtocol);
    },
    ...sessionHooks(options, sessions, {
      opened(pending, session) {
        handedOff.delete(pending);
        // Its upgrade was accepted before shutdown began: it is counted, and closed at once.
        if (closing) session.closeWith(1001, "Server shutting down");
      },
    }),
  };

  return {
    hooks,
    async route(request) {
      const outcome = await route(request);
      if (!(outcome instanceof Response)) routed.set(request, outcome);
      return outcome;
    },
    release(pending) {
      handedOff.delete(pending);
    },
    get closing() {
      return closing;
    },
    async closeAll() {
      closing = true;
      for (const session of sessions) session.closeWith(1001, "Server shutting down");
      await Promise.all(running);
      const deadline = Date.now() + HANDOFF_WAIT_MS;
      while (handedOff.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      while (sessions.size > 0) await Promise.all([...sessions].map((session) => session.finished));
    },
  };
}

function shuttingDown(): Response {
  return new Response("Server shutting down", { status: 503, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/**
 * crossws reports Deno's close without its code: this reads it off the socket's own close event.
 * Deno says 0 for a connection lost without a close frame, which RFC 6455 calls 1006.
 */
export function closeFromSocket(peer: Peer, session: Session): void {
  (peer.websocket as WebSocket).addEventListener("close", (event) => session.closed(event.code || 1006, event.reason));
}

/** What the upgrade hook answers for an accepted upgrade: the peer's context, and the subprotocol. */
export function upgradeOutcome(
  pending: PendingUpgrade,
  omitProtocol?: boolean,
): { context: Record<string, unknown>; protocol?: string } {
  return { context: { [KEY]: pending }, ...(pending.protocol && !omitProtocol ? { protocol: pending.protocol } : {}) };
}

/** The hooks that run a Session for each peer, from open to close. `sessions` tracks the open ones. */
export function sessionHooks(
  options: PeerOptions,
  sessions?: Set<Session>,
  registry?: { opened(pending: PendingUpgrade, session: Session): void },
): Partial<Hooks> {
  const { watchClose } = options;
  const forget = sessions ? (session: Session) => void sessions.delete(session) : undefined;
  return {
    open(peer) {
      const pending = peer.context[KEY] as PendingUpgrade;
      const transport = options.canPing ? new PingingPeerTransport(peer, options) : new PeerTransport(peer, options);
      const session = new Session(pending, transport, forget);
      peer.context[KEY] = session;
      sessions?.add(session);
      watchClose?.(peer, session);
      // Registered first: a loop that ends inside onInit then leaves the registry as well.
      session.start();
      registry?.opened(pending, session);
    },
    message(peer, message) {
      const session = peer.context[KEY] as Session;
      const data = message.rawData as unknown;
      if (typeof data === "string") session.text(data);
      else session.binary(toBytes(data));
    },
    ping(peer) {
      (peer.context[KEY] as Session).heard();
    },
    pong(peer) {
      (peer.context[KEY] as Session).heard();
    },
    close(peer, details) {
      if (watchClose) return;
      const session = peer.context[KEY];
      // 1005: the close frame carried no code (RFC 6455 §7.1.5).
      if (session instanceof Session) session.closed(details.code ?? 1005, details.reason ?? "");
    },
  };
}

/** A crossws peer as the loop's Transport: one class, so a connection carries no closures of its own. */
class PeerTransport implements Transport {
  readonly native: NativeTopics | undefined;
  readonly #zeroMeansDropped: boolean;

  constructor(
    protected readonly peer: Peer,
    { zeroMeansDropped, hub }: PeerOptions,
  ) {
    this.#zeroMeansDropped = zeroMeansDropped ?? false;
    this.native = hub ? new PeerTopics(peer, hub) : undefined;
  }

  send(data: string | Uint8Array): boolean {
    const result = this.peer.send(data);
    return !(this.#zeroMeansDropped && result === 0);
  }

  close(code: number, reason: string): void {
    this.peer.close(code, reason);
  }

  terminate(): void {
    this.peer.terminate();
  }

  get bufferedAmount(): number {
    return this.peer.bufferedAmount;
  }
}

/** For runtimes that can send a ping from JavaScript (Node, Bun): the loop then keeps sockets alive. */
class PingingPeerTransport extends PeerTransport {
  ping(): void {
    this.peer.ping();
  }
}

/** A peer's side of the runtime's native topics (Bun): crossws' subscribe reaches ws.subscribe. */
class PeerTopics implements NativeTopics {
  constructor(
    readonly peer: Peer,
    readonly hub: NativeTopics["hub"],
  ) {}

  subscribe(topic: string): void {
    this.peer.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.peer.unsubscribe(topic);
  }
}

/** Node and Bun hand us Buffers (already Uint8Arrays), Deno an ArrayBuffer: neither is copied. */
function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`wsloop: unexpected binary frame type ${Object.prototype.toString.call(data)}`);
}
