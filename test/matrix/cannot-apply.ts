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
