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

  constructor(ctx: DurableObjectContext, app: FetchHandler, options: DurableHandlerOptions = {}) {
    this.#loops = createDurableHandler(ctx, app, options);
  }

  fetch(request: Request): Promise<Response> {
    return this.#loops.fetch(request);
  }

  webSocketMessage(socket: CloudflareSocket, message: string | ArrayBuffer): Promise<void> {
    return this.#loops.webSocketMessage(socket, message);
  }

  webSocketClose(socket: CloudflareSocket, code: number, reason: string, wasClean?: boolean): Promise<void> {
    return this.#loops.webSocketClose(socket, code, reason, wasClean);
  }

  webSocketError(socket: CloudflareSocket, error: unknown): Promise<void> {
    return this.#loops.webSocketError(socket, error);
  }
}
