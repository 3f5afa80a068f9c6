// Matrix cases that cannot apply on a runtime, by title, with the reason: they are reported as
// skipped with it, rather than left out silently.
import { it } from "vitest";
import type { MatrixRuntime } from "./server.ts";

const CANNOT_APPLY: Partial<Record<MatrixRuntime, Record<string, string>>> = {
  cloudflare: {
    "closes a client that does not answer pings with 1001 after idleTimeout, and keeps one that does":
      "Workers cannot send a ping from JavaScript (idleTimeout is not applied); the runtime answers the client's pings itself",
    "closes a client that stops reading with 1008, with memory bounded, while others keep their pace":
      "a Workers socket has no bufferedAmount, so sends never see backpressure, and workerd reports no memory use",
    "closes 500 open sockets with 1001 on server close() and runs each onClose before it resolves":
      "a Worker has no server to close: Cloudflare ends the sockets when it replaces or evicts the isolate",
    "tells the peer's address and port, also once the socket has closed":
      "a Worker is not told the peer's address (Cloudflare passes the client's IP as the CF-Connecting-IP request header); connection.remoteAddress is undefined there",
    "ignores X-Forwarded-For unless the peer is a trusted proxy":
      "with no peer address there is no proxy to trust: read CF-Connecting-IP from connection.request instead",
    "counts in stats(): upgrades accepted and refused, messages and bytes both ways, closes by code, handler time":
      "a Worker has no server whose stats() could be read: Cloudflare's own analytics count its requests",
    "closes a client blasting 100,000 messages at a slow handler with 1008 at maxQueuedBytes (the runtime cannot stop reading a socket)":
      "the case reads the server's stats(), which a Worker does not have; the queue bound itself is the core's, tested in memory",
    "refuses past the caps with 429 / 503 and Retry-After, times out a slow fetch with 503, and traces":
      "connection caps, upgradeTimeout and telemetry are serve() options, and a Worker has no serve(): Cloudflare limits connections itself",
    "answers 500 to an upgrade the app answers with no Response, at once or later, and gives its place back":
      "the case counts places under maxConnectionsPerIp, a serve() option, and a Worker has no serve()",
    "answers 500 and keeps serving when the app's onError throws or rejects as well":
      "the fixture's onError is a serve() option, and a Worker has no serve(): an exception in a Worker ends only its request",
    "does not upgrade a second client on the first one's request when the app answers it the same marker":
      "the case counts places under maxConnectionsPerIp, a serve() option, and a Worker has no serve()",
    "answers an upgrade without Connection: Upgrade without a 500 or a stack trace, and holds no place for it":
      "the case counts places under maxConnectionsPerIp, a serve() option, and a Worker has no serve()",
    "spreads the 1001 closes of 50 sockets over the window, and resolves after every onClose":
      "a Worker has no server to close: Cloudflare ends the sockets when it replaces or evicts the isolate",
    "does not negotiate permessage-deflate by default, though the client offers it":
      "workerd negotiates permessage-deflate itself when the client offers it; the compression option does not apply",
  },
};

/** `it` for `runtime`: a case that cannot apply there is skipped, its reason in its title. */
export function caseOn(runtime: MatrixRuntime): (name: string, fn: () => Promise<void>, timeout?: number) => void {
  return (name, fn, timeout) => {
    const reason = CANNOT_APPLY[runtime]?.[name];
    if (reason) it.skip(`${name} (cannot apply on ${runtime}: ${reason})`, fn);
    else it(name, fn, timeout);
  };
}
