// A Durable Object class that is nothing but its loops: what every object serving an app repeats.
import { createDurableHandler, type DurableHandler, type DurableHandlerOptions } from "./cloudflare-durable.ts";
import type { CloudflareSocket, DurableObjectContext } from "./cloudflare-types.ts";
import type { FetchHandler } from "./types.ts";

/**
 * A Durable Object that serves `app` ({@link createDurableHandler}): extend it and pass the app
 * from the constructor; `fetch` and the hibernation handlers are delegated for you. Override
 * `fetch` for routes of the object's own, and call `super.fetch` for the rest.
 *
 * @example
 * ```ts
 * export class ChatRoom extends DurableLoops {
 *   constructor(ctx: DurableObjectContext, env: Env) {
 *     super(ctx, createApp(env), { autoResponse: { request: "ping", response: "pong" } });
 *   }
 * }
 * ```
 */
export class DurableLoops implements DurableHandler {
  readonly #loops: DurableHandler;

  /** Serves `app` from the object whose context is `ctx` (see {@link createDurableHandler}). */
  constructor(ctx: DurableObjectContext, app: FetchHandler, options: DurableHandlerOptions = {}) {
    this.#loops = createDurableHandler(ctx, app, options);
  }

  /** Plain requests go to the app; its upgrades open sockets owned by this object. */
  fetch(request: Request): Promise<Response> {
    return this.#loops.fetch(request);
  }

  /** A frame from a socket accepted through the hibernation API. */
  webSocketMessage(socket: CloudflareSocket, message: string | ArrayBuffer): Promise<void> {
    return this.#loops.webSocketMessage(socket, message);
  }

  /** The socket closed: its loop hears the code and ends (onClose once). */
  webSocketClose(socket: CloudflareSocket, code: number, reason: string, wasClean?: boolean): Promise<void> {
    return this.#loops.webSocketClose(socket, code, reason, wasClean);
  }

  /** The connection failed: its loop ends as for a lost connection (1006). */
  webSocketError(socket: CloudflareSocket, error: unknown): Promise<void> {
    return this.#loops.webSocketError(socket, error);
  }
}
