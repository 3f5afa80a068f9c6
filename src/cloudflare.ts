/**
 * wsloop on Cloudflare Workers (workerd): the same app served from a Worker, or from a Durable
 * Object that owns its sockets, whose loops can survive hibernation (`hibernate`).
 *
 * @example
 * ```ts
 * import { createWorkerHandler } from "wsloop/cloudflare";
 * export default { fetch: createWorkerHandler(app) };
 * ```
 * @module
 */

import { openSocket } from "./adapters/cloudflare-socket.ts";
import { defaultOnError, runFetch } from "./adapters/fetch.ts";
import { guardOnError } from "./core/report.ts";
import { isWebSocketUpgrade, takeUpgrade } from "./core/upgrade.ts";

export type { DurableBroker, DurableBrokerOptions, TopicNamespace } from "./adapters/cloudflare-broker.ts";
export { createDurableBroker, WsloopTopic } from "./adapters/cloudflare-broker.ts";
export type { DurableHandler, DurableHandlerOptions } from "./adapters/cloudflare-durable.ts";
export { createDurableHandler } from "./adapters/cloudflare-durable.ts";
export { DurableLoops } from "./adapters/cloudflare-durable-loops.ts";
export type { Hibernation } from "./adapters/cloudflare-hibernation.ts";
export { hibernate } from "./adapters/cloudflare-hibernation.ts";
export type { CloudflareSocket, DurableObjectContext } from "./adapters/cloudflare-types.ts";
export type { FetchHandler } from "./adapters/types.ts";
export type { Action } from "./core/action.ts";
export type { Broker, Payload } from "./core/broker.ts";
export type { Connection } from "./core/connection.ts";
export type { Message } from "./core/message.ts";
export type { Selector } from "./core/selector.ts";
export type { MessageHandler, UpgradeOptions } from "./core/upgrade.ts";

/**
 * A Worker's `fetch`: `app` gets the request, and the Worker's `env` and `ctx` besides.
 *
 * @example
 * ```ts
 * const fetch: WorkerFetch<Env> = (request, env) => env.ROOMS.get(env.ROOMS.idFromName("lobby")).fetch(request);
 * ```
 */
export type WorkerFetch<Env = unknown, Context = unknown> = (
  request: Request,
  env: Env,
  ctx: Context,
) => Response | Promise<Response>;

/**
 * Serves `app` from a Worker. Each socket's loop runs in the request that opened it: Workers
 * forbid one request from touching another's socket, so a handler may send only to its own
 * connection. Loops that talk to each other (a room, a subject shared by several sockets) belong
 * in a Durable Object: route their upgrades there (`stub.fetch(request)`) and serve them with
 * `createDurableHandler`.
 *
 * @example
 * ```ts
 * export default { fetch: createWorkerHandler(app) };
 * ```
 */
export function createWorkerHandler<Env = unknown, Context = unknown>(
  app: WorkerFetch<Env, Context>,
  options: { onError?: (error: unknown) => void } = {},
): (request: Request, env: Env, ctx: Context) => Promise<Response> {
  const onError = guardOnError(options.onError, defaultOnError);
  return async (request, env, ctx) => {
    const response = await runFetch((request) => app(request, env, ctx), request, onError);
    if (!isWebSocketUpgrade(request)) return response;
    const pending = takeUpgrade(request, response);
    return pending ? openSocket(pending) : response;
  };
}
