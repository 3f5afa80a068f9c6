// The client loop's mailbox: items are handled one at a time, in the order they were posted.

// The core's isThenable, restated: importing it would pull a shared chunk into dist/client.js.
export const thenable = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  typeof (value as PromiseLike<T> | null)?.then === "function";

export interface Serial<T> {
  /** Queues `item`, and handles it now if nothing is running. */
  post(item: T): void;
  /** Drops what is queued. */
  clear(): void;
}

/**
 * Runs `step` for each posted item, one at a time, in order. A step that returns a promise holds
 * the next item until it settles (it must not reject: `step` handles its own failures). A
 * synchronous step costs no promise.
 */
export function serial<T>(step: (item: T) => void | PromiseLike<void>): Serial<T> {
  const queue: T[] = [];
  let running = false;
  const run = (): void => {
    running = true;
    while (queue.length > 0) {
      const pending = step(queue.shift() as T);
      if (thenable(pending)) {
        pending.then(run, run);
        return;
      }
    }
    running = false;
  };
  return {
    post(item) {
      queue.push(item);
      if (!running) run();
    },
    clear() {
      queue.length = 0;
    },
  };
}
