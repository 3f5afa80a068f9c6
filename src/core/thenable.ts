/** True for a promise or anything else with a `then` method: what `await` would wait for. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<T>).then === "function";
}

/**
 * Calls `run` and hands its value to `then`, or what it threw or rejected with to `fail`: at once
 * for a plain value or a throw, once settled for a thenable.
 */
export function whenSettled(run: () => unknown, then: (value: unknown) => void, fail: (error: unknown) => void): void {
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    fail(error);
    return;
  }
  // Adopted: a native promise is itself; another thenable's throwing `then` becomes a rejection.
  if (isThenable(result)) Promise.resolve(result).then(then, fail);
  else then(result);
}
