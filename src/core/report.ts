import type { Connection } from "./connection.ts";

/** Hands a connection's error to the app's `onError` (default console.error); a throwing `onError` cannot break the loop. */
export function reportError(
  onError: ((error: unknown, connection: Connection) => void) | undefined,
  connection: Connection,
  error: unknown,
): void {
  try {
    if (onError) onError(error, connection);
    else console.error(`[wsloop] connection ${connection.id}:`, error);
  } catch (nested) {
    console.error("[wsloop] onError threw:", nested);
  }
}
