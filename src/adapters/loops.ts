// A server's loops: the app's fetch bound to crossws, its upgrades routed and counted, its sockets
// tracked for a graceful shutdown.
import type { Hooks, Peer } from "crossws";
import { CLOSE_GRACE_MS, type NativeTopics, type RemoteAddress } from "../core/connection.ts";
import { unref } from "../core/keepalive.ts";
import type { Session } from "../core/session.ts";
import { type ServerStats, Stats } from "../core/stats.ts";
import { isThenable } from "../core/thenable.ts";
import { type PendingUpgrade, takeUpgrade } from "../core/upgrade.ts";
import { ConnectionCaps, clientKey, refusal, timedOut, upgradeTimeoutOf } from "./caps.ts";
import { closeInBatches, drainSeconds } from "./drain.ts";
import { internalError, notAResponse, runFetch } from "./fetch.ts";
import { LiveSessions, type SessionSet } from "./live-sessions.ts";
import { type OpenSocket, OpenSockets } from "./open-sockets.ts";
import { PORT_KEY } from "./peer-address.ts";
import { KEY } from "./peer-context.ts";
import { sessionHooks } from "./session-hooks.ts";
import { loadTelemetry, type Telemetry } from "./telemetry.ts";
import type { CloseOptions, FetchHandler, ServerLimits } from "./types.ts";

/** crossws hooks that run wsloop sessions, and the registry a server needs to shut down gracefully. */
export interface Loops {
  readonly hooks: Partial<Hooks>;
  /**
   * Runs the app for an upgrade request ahead of crossws, for adapters that must know the
   * upgrade's limits before handing it over: the Response to send as it is, or the accepted upgrade
   * (which the upgrade hook then takes without running the app again).
   */
  route(request: Request, address?: string, direct?: boolean): Response | PendingUpgrade | Promise<Response | PendingUpgrade>;
  /**
   * For adapters that know when a handoff ended (Node opens the socket synchronously): an upgrade
   * `route` accepted will not open a socket after all, and shutdown need not wait for it.
   */
  release(pending: PendingUpgrade): void;
  /** True once closeAll was called: new upgrades get 503. */
  readonly closing: boolean;
  /**
   * Refuses new upgrades (503), closes every socket with 1001, waits for upgrades whose fetch is
   * still running (they get 503; upgradeTimeout at most) or whose socket is about to open (it gets
   * 1001 at once), and
   * resolves once each `onClose` settled (at most closeTimeout + 1 s for a connection whose handler
   * does not return: it is reported to onError) and each socket closed (a client that does not
   * finish the closing handshake within 2 s is dropped).
   */
  closeAll(options?: CloseOptions): Promise<void>;
  /** The server's counters: see `Server.stats`. */
  stats(): ServerStats;
  /** Settles once telemetry is loaded (at once without it); rejects when it cannot be. */
  readonly ready: Promise<void>;
}

export interface LoopsOptions extends ServerLimits {
  onError: (error: unknown) => void;
  /**
   * Set by runtimes whose crossws close hook lacks the close code (Deno): they report the close
   * to the session themselves, and the hook's report is ignored.
   */
  watchClose?: (peer: Peer, session: Session) => void;
  /**
   * Bun's upgrade answers the client's first offered subprotocol when the response names none; an
   * empty Sec-WebSocket-Protocol header keeps the header out of the response.
   */
  blankProtocol?: boolean;
  /**
   * False where the runtime cannot send pings from JavaScript (Deno): the adapter then hands the
   * idle timeout to the runtime, which pings and closes by itself.
   */
  canPing: boolean;
  /**
   * Bun's send answers the bytes it sent, -1 when it queued the frame under backpressure, and 0
   * both when it sent an empty payload and when it dropped the frame (socket closing or closed, or
   * over its backpressureLimit): the socket's readyState tells those apart.
   */
  sendAnswersBytes?: boolean;
  /** Drops the connection without a closing handshake, where crossws' `peer.terminate()` cannot (Deno). */
  terminate?: (peer: Peer) => void;
  /** Publishes to the runtime's native topics (Bun's server.publish), which sockets join through crossws. */
  hub?: NativeTopics["hub"];
  /** For peers that are their own transport (BunPeer): the peer, bound to the server's `options`. */
  ownTransport?: (peer: Peer, options: PeerOptions) => OpenSocket;
  /** The peer's address, read when the app asks (see peer-address.ts). */
  remoteAddress?: (peer: Peer) => RemoteAddress | undefined;
  /** Runs at open, to read what the runtime forgets once the socket closed (Node's socket address). */
  keepAddress?: (peer: Peer) => void;
  /**
   * Asks the runtime to compress each frame sent, where it compresses only when asked (Bun); it
   * does so only for clients that negotiated permessage-deflate with a server that offers it.
   */
  compress?: boolean;
}

/** What running a session on a crossws peer depends on: the runtime's abilities, and the server's counters. */
export type PeerOptions = Omit<LoopsOptions, "onError" | "blankProtocol" | keyof ServerLimits> & {
  stats?: Stats;
};

/**
 * How long an accepted upgrade may take to open its socket (Bun and Deno open it after the 101):
 * shutdown waits that long for it, and past it the upgrade is let go (its cap place given back).
 */
const HANDOFF_WAIT_MS = 2_000;

/** Binds the app's fetch handler to crossws: each upgrade it marks becomes a Session. */
export function createLoops(fetch: FetchHandler, options: LoopsOptions): Loops {
  const sessions = new LiveSessions();
  // Sockets the runtime has not reported closed yet (a session may finish before its socket does).
  const sockets = new OpenSockets();
  let closing = false;
  const { onError } = options;
  const stats = new Stats();
  // Handler times are sampled; the sampling restarts every second (see Stats.resample).
  const resampling = setInterval(() => stats.resample(), 1000);
  unref(resampling);
  let peakConnections = 0;
  const snapshot = () => stats.snapshot(sessions, sessions.size, peakConnections);
  const caps =
    options.maxConnections !== undefined || options.maxConnectionsPerIp !== undefined
      ? new ConnectionCaps(options.maxConnections, options.maxConnectionsPerIp)
      : undefined;
  const upgradeTimeoutMs = upgradeTimeoutOf(options.upgradeTimeout) * 1000;
  let telemetry: Telemetry | undefined;
  const ready = options.telemetry
    ? loadTelemetry(stats, snapshot).then((loaded) => {
        telemetry = loaded;
      })
    : Promise.resolve();
  // Telemetry that cannot load is reported (the sockets work without it): a caller of
  // createBunHandlers or createDenoHandler need not read `ready`, and must not crash for it.
  ready.catch(onError);
  const peerOptions: PeerOptions = { ...options, stats };

  // Upgrades whose fetch is still running, and accepted ones whose socket has not opened yet:
  // shutdown waits for both, so a socket cannot open unnoticed after closeAll resolved.
  const running = new Set<Promise<unknown>>();
  // Each with the time after which it is let go: Deno and Bun say nothing of an upgrade whose client
  // vanished before its socket opened, and it must neither stay here nor hold a place under the caps.
  // The monotonic clock: a wall clock set back would hold them (and close()) for as long.
  const handedOff = new Map<PendingUpgrade, number>();

  /** Lets go of handoffs past their time (the oldest come first: insertion order is time order). */
  function expireHandoffs(now: number): void {
    for (const [pending, deadline] of handedOff) {
      if (deadline > now) return;
      handedOff.delete(pending);
      caps?.released(pending);
    }
  }

  /** Counts a refused upgrade: `response` is what the client gets. */
  function refused(response: Response): Response {
    stats.refused(response.status);
    return response;
  }

  /**
   * The app's answer to an upgrade: at once when the app answers synchronously (no promise, no
   * timer per upgrade: there is nothing to time out), else a promise raced against upgradeTimeout.
   */
  function route(request: Request, peer?: string): Response | PendingUpgrade | Promise<Response | PendingUpgrade> {
    if (closing) return refused(shuttingDown());
    const address = peer === undefined ? undefined : clientKey(peer);
    if (handedOff.size > 0) expireHandoffs(performance.now());
    // Over a cap: refused before the app runs and before any socket exists.
    const full = caps?.admit(address, sessions.size + running.size);
    if (full) return refused(full);
    let answer: Response | Promise<Response>;
    try {
      answer = fetch(request);
    } catch (error) {
      onError(error);
      answer = internalError();
    }
    if (isThenable(answer)) return routeLater(request, answer, address);
    return accepted(request, answer, address);
  }

  async function routeLater(request: Request, answer: Promise<Response>, address?: string): Promise<Response | PendingUpgrade> {
    let response: Response | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), upgradeTimeoutMs);
    });
    // Shutdown waits for the answer or the timeout: a fetch that never answers must not hold it.
    const answered = Promise.race([runFetch(() => answer, request, onError), late]);
    running.add(answered);
    try {
      response = await answered;
    } finally {
      // Without .finally: no closure and two promises fewer per upgrade.
      clearTimeout(timer);
      running.delete(answered);
    }
    // The app did not answer in time: whatever it answers later is dropped.
    if (!response) {
      caps?.cancel(address);
      return refused(timedOut());
    }
    return accepted(request, response, address);
  }

  /** The app answered `answer`: the upgrade it accepted, handed off, or the Response to send. */
  function accepted(request: Request, answer: unknown, address: string | undefined): Response | PendingUpgrade {
    // The adapters tell a refusal from an accepted upgrade by `instanceof Response`: anything else
    // (nothing, another realm's Response) would pass for an upgrade.
    const response = answer instanceof Response ? answer : notAResponse(answer, onError);
    const pending = takeUpgrade(request, response);
    if (!pending || closing) caps?.cancel(address);
    if (!pending) return refused(response);
    if (closing) return refused(shuttingDown());
    handedOff.set(pending, performance.now() + HANDOFF_WAIT_MS);
    caps?.handedOff(pending, address);
    stats.upgradesAccepted++;
    return pending;
  }

  const hooks: Partial<Hooks> = {
    // Not async: crossws awaits whatever it returns, and an upgrade routed already needs no promise.
    upgrade(request) {
      const pending = (request as Routed)[kRouted];
      if (pending) {
        (request as Routed)[kRouted] = undefined;
        return upgradeOutcome(pending, options);
      }
      const routing = route(request);
      return isThenable(routing) ? routing.then((outcome) => outcomeOf(outcome, options)) : outcomeOf(routing, options);
    },
    ...sessionHooks(peerOptions, {
      sessions,
      sockets,
      opened(pending, session) {
        handedOff.delete(pending);
        caps?.opened(pending, session);
        telemetry?.opened(session.connection);
        if (sessions.size > peakConnections) peakConnections = sessions.size;
        // Its upgrade was accepted before shutdown began: it is counted, and closed at once.
        if (closing) session.closeWith(1001, "Server shutting down");
      },
      finished(session) {
        caps?.finished(session);
        telemetry?.finished(session.connection);
      },
    }),
  };

  return {
    hooks,
    route(request, address, direct) {
      const outcome = route(request, address);
      // direct: the adapter upgrades by itself (Bun), crossws' upgrade hook will not run for it.
      if (direct) return outcome;
      if (!isThenable(outcome)) return routedFor(request, outcome);
      return outcome.then((value) => routedFor(request, value));
    },
    release(pending) {
      handedOff.delete(pending);
      caps?.released(pending);
    },
    get closing() {
      return closing;
    },
    stats: snapshot,
    ready,
    async closeAll({ drain = 0 } = {}) {
      const windowMs = drainSeconds(drain) * 1000;
      closing = true;
      clearInterval(resampling);
      await closeInBatches(sessions, windowMs);
      await Promise.all(running);
      // Each accepted upgrade about to open is waited for until its own deadline.
      for (expireHandoffs(performance.now()); handedOff.size > 0; expireHandoffs(performance.now()))
        await new Promise((resolve) => setTimeout(resolve, 10));
      await finishAll(sessions, onError);
      // A client that never answers the close frame would hold its socket (and the server's own
      // shutdown) for as long as the runtime waits, if ever: it is dropped after the grace.
      await sockets.drained(CLOSE_GRACE_MS);
      sockets.terminateAll();
      await sockets.drained(CLOSE_GRACE_MS);
    },
  };
}

/**
 * Where `route` leaves an accepted upgrade for crossws' upgrade hook, which clears it: a property of
 * the request (a WeakMap entry cost ~0.5 µs to set and take on V8).
 */
const kRouted = Symbol("wsloop.routed");
type Routed = { [kRouted]?: PendingUpgrade };

function routedFor(request: Request, outcome: Response | PendingUpgrade): Response | PendingUpgrade {
  if (!(outcome instanceof Response)) (request as Routed)[kRouted] = outcome;
  return outcome;
}

/** What the upgrade hook answers for what `route` decided: the refusal as it is, or the upgrade. */
function outcomeOf(outcome: Response | PendingUpgrade, options: LoopsOptions): Response | ReturnType<typeof upgradeOutcome> {
  return outcome instanceof Response ? outcome : upgradeOutcome(outcome, options);
}

/** With Retry-After, like every refusal: a client retrying at once would meet this server again. */
function shuttingDown(): Response {
  return refusal(503, "the server is shutting down");
}

/**
 * Waits for every session to finish, but for one whose handler does not return, no longer than its
 * closeTimeout and a second: that one is reported and left to finish whenever its handler does.
 */
async function finishAll(sessions: SessionSet, onError: (error: unknown) => void): Promise<void> {
  const stuck = new Set<Session>();
  const waited = async (session: Session) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      // At most a timer's longest delay: one past it fires at once (closeTimeout may be 2147483 s).
      timer = setTimeout(() => resolve(true), Math.min((session.connection.limits.closeTimeout + 1) * 1000, 2 ** 31 - 1));
    });
    const isLate = await Promise.race([session.finished.then(() => false), late]);
    clearTimeout(timer);
    if (!isLate) return;
    stuck.add(session);
    onError(
      new Error(
        `wsloop: connection ${session.connection.id} is still in a handler after closeTimeout; close() stops waiting for it`,
      ),
    );
  };
  // Sessions that open meanwhile (accepted before shutdown) are waited for too.
  for (let left = [...sessions]; left.length > 0; left = [...sessions].filter((session) => !stuck.has(session))) {
    await Promise.all(left.map(waited));
  }
}

/**
 * The crossws namespace of every socket. crossws keys its peer sets by namespace, the upgrade's
 * path by default: a set per distinct path, kept forever, and clients choose paths. wsloop does
 * not use crossws' per-namespace publishing, so one constant key is enough.
 */
const NAMESPACE = "wsloop";

/**
 * What the upgrade hook answers for an accepted upgrade: the peer's context (with the client's port
 * where the adapter knows it only now), the subprotocol and the app's headers for the 101.
 */
export function upgradeOutcome(
  pending: PendingUpgrade,
  { blankProtocol }: Pick<LoopsOptions, "blankProtocol"> = {},
  port?: number,
): { context: Record<string, unknown>; namespace: string; protocol?: string; headers?: HeadersInit } {
  const context: Record<string, unknown> = { [KEY]: pending };
  if (port !== undefined) context[PORT_KEY] = port;
  const outcome = { context, namespace: NAMESPACE };
  const headers = pending.headers;
  if (pending.protocol)
    return headers ? { ...outcome, protocol: pending.protocol, headers } : { ...outcome, protocol: pending.protocol };
  if (!blankProtocol) return headers ? { ...outcome, headers } : outcome;
  if (!headers) return { ...outcome, headers: { "sec-websocket-protocol": "" } };
  const merged = new Headers(headers);
  merged.set("sec-websocket-protocol", "");
  return { ...outcome, headers: merged };
}
