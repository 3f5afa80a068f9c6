/**
 * Bucket upper bounds in milliseconds: 1, 1.5, 2, 3, 5 and 7 per decade from 1 µs to 70 s, then
 * 100 s (49 bounds, each at most 1.5× the one before); a last bucket takes what is above.
 */
export const BOUNDS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let exponent = -3; exponent <= 4; exponent++)
    for (const mantissa of [1, 1.5, 2, 3, 5, 7]) bounds.push(Number((mantissa * 10 ** exponent).toPrecision(2)));
  bounds.push(100_000);
  return bounds;
})();

/** How long the recent window is: percentiles cover the last one to two of them. */
const WINDOW_MS = 60_000;

/**
 * Durations in fixed buckets: nothing is allocated per sample. Keeps the counts since it was made
 * (for Prometheus-style cumulative buckets) and those of the current and previous window (for
 * recent percentiles).
 */
export class Histogram {
  readonly #total = new Float64Array(BOUNDS.length + 1);
  #current = new Float64Array(BOUNDS.length + 1);
  #previous = new Float64Array(BOUNDS.length + 1);
  #windowStart = 0;
  /** Samples since it was made, and their sum in ms. */
  count = 0;
  sum = 0;

  record(ms: number, now: number): void {
    this.#rotate(now);
    const index = bucketOf(ms);
    this.#total[index] = (this.#total[index] as number) + 1;
    this.#current[index] = (this.#current[index] as number) + 1;
    this.count++;
    this.sum += ms;
  }

  /** The `q` quantile (0 to 1) of the last one to two windows, interpolated within its bucket; 0 without samples. */
  recent(q: number, now: number): number {
    this.#rotate(now);
    const counts = this.#current.map((count, i) => count + (this.#previous[i] as number));
    const total = counts.reduce((sum, count) => sum + count, 0);
    if (total === 0) return 0;
    const rank = q * total;
    let below = 0;
    for (let i = 0; i < counts.length; i++) {
      const count = counts[i] as number;
      if (count > 0 && below + count >= rank) {
        const low = i === 0 ? 0 : (BOUNDS[i - 1] as number);
        const high = BOUNDS[i] ?? low;
        return low + (high - low) * Math.min(1, Math.max(0, (rank - below) / count));
      }
      below += count;
    }
    return BOUNDS[BOUNDS.length - 1] as number;
  }

  /** Cumulative counts since it was made: samples at most `le` ms, per bound, and the total. */
  cumulative(): { le: number; count: number }[] {
    let running = 0;
    const out: { le: number; count: number }[] = [];
    this.#total.forEach((count, i) => {
      running += count;
      out.push({ le: BOUNDS[i] ?? Infinity, count: running });
    });
    return out;
  }

  #rotate(now: number): void {
    if (now - this.#windowStart < WINDOW_MS) return;
    // Two windows or more without a sample: nothing recent is left.
    if (now - this.#windowStart >= 2 * WINDOW_MS) this.#current.fill(0);
    [this.#previous, this.#current] = [this.#current, this.#previous];
    this.#current.fill(0);
    this.#windowStart = now;
  }
}

/** The first bucket whose bound is at least `ms` (binary search over 49 bounds). */
function bucketOf(ms: number): number {
  let low = 0;
  let high = BOUNDS.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((BOUNDS[middle] as number) < ms) low = middle + 1;
    else high = middle;
  }
  return low;
}
