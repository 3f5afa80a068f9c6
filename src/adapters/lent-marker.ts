// One marker Response per server, lent to its upgrades in turn (see lendMarker), for the adapters
// that run the app ahead of the handshake (Node, Bun): a Response per upgrade costs ~5 µs with its GC.
import { answerTaken, isLentMarker, lendMarker, upgradeMarker } from "../core/upgrade.ts";

export class LentMarker {
  #marker = upgradeMarker();
  // Lent to one request at a time: middleware of two requests in flight (an async app) must not
  // see, nor send, each other's headers on it. A request meanwhile gets a marker of its own.
  #lent = false;

  /** Lends the marker to `request` if it is free: what `giveBack` then takes. */
  lend(request: Request): Response | undefined {
    if (this.#lent) return undefined;
    this.#lent = true;
    const marker = this.#marker;
    lendMarker(request, marker);
    return marker;
  }

  /** The upgrade `request` is decided (`marker`: what `lend` answered for it, undefined if nothing). */
  giveBack(marker: Response | undefined, request: Request): void {
    if (!marker) return;
    this.#lent = false;
    // Middleware may change the headers of whatever the app answers, and an app still running
    // (past upgradeTimeout) may yet change them: such a marker is left to it, and the next request
    // gets a fresh one (status and body cannot change), so no request sees another's headers.
    if (!answerTaken(request) || !hasOwnHeadersOnly(marker.headers)) this.#marker = upgradeMarker();
  }
}

/** Whether `headers` are the marker's own, `upgrade: websocket`, and nothing else (Node's Headers has no `count`). */
function hasOwnHeadersOnly(headers: Headers): boolean {
  let count = 0;
  for (const [name, value] of headers) if (++count > 1 || name !== "upgrade" || value !== "websocket") return false;
  return count === 1;
}

/** What the client gets for a refusal: a lent marker (a request the app did not upgrade) is shared, so it gets its own. */
export function ownResponse(response: Response): Response {
  return isLentMarker(response) ? upgradeMarker() : response;
}
