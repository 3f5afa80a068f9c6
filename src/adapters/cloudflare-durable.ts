import { guardOnError } from "../core/report.ts";
import { Session } from "../core/session.ts";
import { isWebSocketUpgrade, type PendingUpgrade, takeUpgrade } from "../core/upgrade.ts";
import { hibernationOf, isEnded, isSaved, markEnded, persisting, rebuiltRequest, type Saved } from "./cloudflare-hibernation.ts";
import { closed, deliver, openSocket, SocketTransport } from "./cloudflare-socket.ts";
import { type CloudflareSocket, type DurableObjectContext, switchingProtocols, workers } from "./cloudflare-types.ts";
import { defaultOnError, runFetch } from "./fetch.ts";
import type { FetchHandler } from "./types.ts";

/**
 * Options of {@link createDurableHandler}.
 *
 * @example
 * ```ts
 * createDurableHandler(ctx, app, { autoResponse: { request: "ping", response: "pong" } });
 * ```
 */
export interface DurableHandlerOptions {
  /** Gets what the fetch handler threw (answered 500) and what failed while waking a loop. Default: console.error. */
  onError?: (error: unknown) => void;
  /**
   * A text frame the runtime answers by itself, without waking a hibernating object, for clients
   * that keep the connection alive with application-level pings (`setWebSocketAutoResponse`). It
   * never reaches `onMessage`; it applies to the object's hibernating sockets.
   */
  autoResponse?: { request: string; response: string };
}

/**
 * What a Durable Object delegates to: its `fetch` and its hibernation handlers.
 *
 * @example
 * ```ts
 * export class Room {
 *   readonly loops: DurableHandler;
 *   constructor(ctx: DurableObjectContext) {
 *     this.loops = createDurableHandler(ctx, app);
 *   }
 *   fetch(request: Request) { return this.loops.fetch(request); }
 *   webSocketMessage(ws: CloudflareSocket, message: string | ArrayBuffer) { return this.loops.webSocketMessage(ws, message); }
 *   webSocketClose(ws: CloudflareSocket, code: number, reason: string) { return this.loops.webSocketClose(ws, code, reason); }
 *   webSocketError(ws: CloudflareSocket, error: unknown) { return this.loops.webSocketError(ws, error); }
 * }
 * ```
 */
export interface DurableHandler {
  /** Plain requests go to the app; its upgrades open sockets owned by this object. */
  fetch(request: Request): Promise<Response>;
  /** A frame from a socket accepted through the hibernation API (after waking its loop if the object slept). */
  webSocketMessage(socket: CloudflareSocket, message: string | ArrayBuffer): Promise<void>;
  /** The socket closed: its loop hears the code and ends (onClose once). */
  webSocketClose(socket: CloudflareSocket, code: number, reason: string, wasClean?: boolean): Promise<void>;
  /** The connection failed: its loop ends as for a lost connection (1006). */
  webSocketError(socket: CloudflareSocket, error: unknown): Promise<void>;
}

/**
 * Serves `app` from a Durable Object: the object owns its sockets, so the loops of one object
 * share its memory (a room's subject or `createMemoryBroker`). An endpoint opted in with
 * `hibernate` is accepted through the hibernation API and its loops resume after the object
 * wakes; any other endpoint keeps the object in memory while its sockets are open.
 *
 * @example
 * ```ts
 * constructor(ctx: DurableObjectContext, env: Env) {
 *   this.loops = createDurableHandler(ctx, createApp(env));
 * }
 * ```
 */
export function createDurableHandler(
  ctx: DurableObjectContext,
  app: FetchHandler,
  options: DurableHandlerOptions = {},
): DurableHandler {
  const onError = guardOnError(options.onError, defaultOnError);
  if (options.autoResponse) {
    const { request, response } = options.autoResponse;
    ctx.setWebSocketAutoResponse(new (workers().WebSocketRequestResponsePair)(request, response));
  }
  // The loops of this object's life; after a wake they are rebuilt from the sockets' attachments.
  const loops = new WeakMap<CloudflareSocket, Session | Promise<Session | undefined>>();

  function hibernating(pending: PendingUpgrade): Response {
    const hibernation = hibernationOf(pending);
    if (!hibernation) return openSocket(pending);
    const pair = new (workers().WebSocketPair)();
    const server = pair[1];
    ctx.acceptWebSocket(server);
    const session = new Session(persisting(pending, hibernation, server), new SocketTransport(server), () => markEnded(server));
    loops.set(server, session);
    session.start();
    return switchingProtocols(pair[0], pending.protocol, pending.headers);
  }

  /** The loop of a socket accepted before the object hibernated: the app finds its handlers again. */
  async function wake(socket: CloudflareSocket): Promise<Session | undefined> {
    const saved = socket.deserializeAttachment();
    // Its loop ended (onClose ran) before the object hibernated: only the socket's close was left.
    if (isEnded(saved)) return undefined;
    try {
      if (!isSaved(saved) || !("state" in saved)) throw new Error("its attachment holds no loop state");
      return await restore(socket, saved);
    } catch (error) {
      onError(new Error("wsloop/cloudflare: could not wake a hibernated loop; its socket is closed with 1011", { cause: error }));
      markEnded(socket);
      try {
        socket.close(1011, "Internal Error");
      } catch {
        // Closed already.
      }
      return undefined;
    }
  }

  async function restore(socket: CloudflareSocket, saved: Saved): Promise<Session> {
    const request = rebuiltRequest(saved);
    const pending = takeUpgrade(request, await runFetch(app, request, onError));
    const hibernation = pending && hibernationOf(pending);
    if (!pending || !hibernation) throw new Error(`the app no longer upgrades ${saved.url} with hibernate()`);
    const state = hibernation.deserialize(saved.state);
    const session = new Session(persisting(pending, hibernation, socket), new SocketTransport(socket), () => markEnded(socket));
    const selector = hibernation.selector?.(state, session.connection, pending.options.dependencies);
    loops.set(socket, session);
    session.start([state, selector]);
    return session;
  }

  /** Runs `use` with the socket's loop, in the order events arrived, waking it first if need be. */
  function withLoop(socket: CloudflareSocket, use: (session: Session) => void): Promise<void> {
    let loop = loops.get(socket);
    if (loop === undefined) {
      loop = wake(socket);
      loops.set(socket, loop);
    }
    if (loop instanceof Session) {
      use(loop);
      return Promise.resolve();
    }
    // Events that arrive while the loop wakes wait behind it, in order.
    const next = loop.then((session) => {
      if (session) use(session);
      return session;
    });
    loops.set(socket, next);
    return next.then(() => {});
  }

  // Woken from hibernation: every loop is restored before the first event (not only at its own
  // socket's next event), so what its selector delivers meanwhile reaches it.
  const sleeping = ctx.getWebSockets();
  if (sleeping.length > 0)
    void ctx.blockConcurrencyWhile(() => Promise.all(sleeping.map((socket) => withLoop(socket, () => {}))));

  return {
    async fetch(request) {
      if (!isWebSocketUpgrade(request)) return runFetch(app, request, onError);
      const response = await runFetch(app, request, onError);
      const pending = takeUpgrade(request, response);
      return pending ? hibernating(pending) : response;
    },
    webSocketMessage: (socket, message) => withLoop(socket, (session) => deliver(session, message)),
    webSocketClose: (socket, code, reason) => withLoop(socket, (session) => closed(session, socket, code, reason)),
    webSocketError: (socket) => withLoop(socket, (session) => session.closed(1006, "")),
  };
}
