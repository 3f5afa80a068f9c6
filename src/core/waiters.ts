/** Promises waiting for a loop to go idle, or to finish. */
export class Waiters {
  #entries: { resolve: () => void; untilFinished: boolean }[] = [];

  /** Resolves at the next `release` (with `finished` set, if `untilFinished`). */
  wait(untilFinished: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.#entries.push({ resolve, untilFinished });
    });
  }

  /** Resolves the waiters for idleness, and with `finished` those for the end as well. */
  release(finished: boolean): void {
    const entries = this.#entries;
    if (entries.length === 0) return;
    this.#entries = finished ? [] : entries.filter((entry) => entry.untilFinished);
    for (const entry of entries) if (finished || !entry.untilFinished) entry.resolve();
  }
}
