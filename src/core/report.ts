import type { Connection } from "./connection.ts";
import { isThenable } from "./thenable.ts";

/** Hands a connection's error to the app's `onError` (default console.error); a throwing `onError` cannot break the loop. */
export function reportError(
  onError: ((error: unknown, connection: Connection) => void) | undefined,
  connection: Connection,
  error: unknown,
): void {
  if (onError) callOnError(onError, error, connection);
  else console.error(`[wsloop] connection ${connection.id}:`, error);
}

/**
 * Calls an app's `onError`; an error it throws or rejects with (typed void, but an async function
 * is assignable to it) is logged, never raised into the caller: a runtime's I/O callback, or the
 * loop.
 */
export function callOnError<Args extends unknown[]>(onError: (...args: Args) => void, ...args: Args): void {
  try {
    const result: unknown = onError(...args);
    if (isThenable(result)) result.then(undefined, onErrorFailed);
  } catch (failure) {
    onErrorFailed(failure);
  }
}

/**
 * The app's onError (or `fallback` where it gave none), safe to call from anywhere: an error it
 * throws or rejects with is logged instead of raised into the runtime, where it would be an
 * uncaught exception (on Node, the end of the process): from a request the client made fail, from
 * node-redis' 'error' event, from a subscription every publish waits on.
 */
export function guardOnError(
  onError: ((error: unknown) => void) | undefined,
  fallback: (error: unknown) => void,
): (error: unknown) => void {
  if (onError === undefined) return fallback;
  return (error) => callOnError(onError, error);
}

function onErrorFailed(failure: unknown): void {
  console.error("[wsloop] onError failed:", failure);
}
