/**
 * wsloop inside hosts that upgrade through crossws themselves, such as crossws's own server
 * (`crossws/server`: srvx with crossws's WebSocket plugin), tested on Node, Bun and Deno. Nitro
 * upgrades through crossws the same way, untested here. Such a host performs the upgrade for a 426
 * Response carrying crossws hooks; this turns wsloop's upgrade Response into one.
 *
 * @example
 * ```ts
 * // An h3 route on a crossws host
 * import { toCrossws } from "wsloop/crossws";
 * export default defineHandler((event) => toCrossws(event.req, upgradeWebSocket(event.req, options)));
 * ```
 * @module
 */
import type { Hooks } from "crossws";
import { takeUpgrade } from "../core/upgrade.ts";
import { terminateDenoSocket } from "./deno-socket.ts";
import { type PeerOptions, upgradeOutcome } from "./loops.ts";
import { keepNodeAddress, nodeAddress } from "./peer-address.ts";
import { closeFromSocket, sessionHooks } from "./session-hooks.ts";

// The key h3 and crossws' resolvers read the hooks of a request from.
const kCrosswsHooks = Symbol.for("crossws.hooks");

const isBun = "Bun" in globalThis;
const isDeno = "Deno" in globalThis;
// Bun and Deno tell a peer's port only at the upgrade, which the host performs: no remoteAddress there.
const runtime: PeerOptions = isDeno
  ? { canPing: false, watchClose: closeFromSocket, terminate: terminateDenoSocket }
  : isBun
    ? // Bun compresses a frame only when asked, and only for a client that negotiated it with a host that offers it.
      { canPing: true, sendAnswersBytes: true, compress: true }
    : { canPing: true, remoteAddress: nodeAddress, keepAddress: keepNodeAddress };

/**
 * The Response for a crossws host: for an upgrade `upgradeWebSocket` accepted, a 426 carrying the
 * crossws hooks that run its loop (also set on the request, where h3 looks); any other Response
 * as it is.
 *
 * @example
 * ```ts
 * export default defineHandler((event) => toCrossws(event.req, upgradeWebSocket(event.req, options)));
 * ```
 */
export function toCrossws(request: Request, response: Response): Response {
  const pending = takeUpgrade(request, response);
  if (!pending) return response;
  if (isDeno && pending.headers)
    // crossws hands them to Deno.upgradeWebSocket, which ignores them: refused, never dropped.
    throw new TypeError(
      "wsloop/crossws: upgradeWebSocket's headers cannot reach the 101 response through crossws on Deno (Deno.upgradeWebSocket ignores them); serve with wsloop/deno, or leave headers out",
    );
  const hooks: Partial<Hooks> = { upgrade: () => upgradeOutcome(pending, { blankProtocol: isBun }), ...sessionHooks(runtime) };
  (request as unknown as Record<symbol, unknown>)[kCrosswsHooks] = hooks;
  return Object.assign(new Response("WebSocket upgrade is required.", { status: 426 }), { crossws: hooks });
}
