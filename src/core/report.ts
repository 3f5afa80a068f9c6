import type { Connection } from "./connection.ts";
import { isThenable } from "./thenable.ts";

/** Hands a connection's error to the app's `onError` (default console.error); a throwing `onError` cannot break the loop. */
export function reportError(
  onError: ((error: unknown, connection: Connection) => void) | undefined,
  connection: Connection,
  error: unknown,
): void {
  try {
    if (!onError) console.error(`[wsloop] connection ${connection.id}:`, error);
    else {
      // Typed void, but an async function is assignable to it: its rejection is logged too.
      const result: unknown = onError(error, connection);
      if (isThenable(result)) result.then(undefined, onErrorFailed);
    }
  } catch (nested) {
    onErrorFailed(nested);
  }
}

function onErrorFailed(nested: unknown): void {
  console.error("[wsloop] onError threw:", nested);
}
