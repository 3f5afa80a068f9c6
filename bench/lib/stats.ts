// Samples per server and figure, one per round, and what they say: medians with min–max, wsloop's
// ratio to another server round by round, and whether a difference is larger than the noise.
import type { Figure, Target } from "./figures.ts";
import type { Kind, Runtime } from "./processes.ts";

/** samples[runtime/kind/label][round]: undefined where that round's measurement failed. */
export class Samples {
  readonly #values = new Map<string, (number | undefined)[]>();

  #key(runtime: Runtime, kind: Kind, label: string) {
    return `${runtime}/${kind}/${label}`;
  }

  set(runtime: Runtime, kind: Kind, label: string, round: number, value: number | undefined): void {
    const key = this.#key(runtime, kind, label);
    const values = this.#values.get(key) ?? [];
    values[round] = value;
    this.#values.set(key, values);
  }

  get(runtime: Runtime, kind: Kind, label: string): (number | undefined)[] {
    return this.#values.get(this.#key(runtime, kind, label)) ?? [];
  }

  /** wsloop's value over `other`'s in each round where both were measured (in the same round, seconds apart). */
  ratios(runtime: Runtime, other: Kind, label: string): number[] {
    const mine = this.get(runtime, "wsloop", label);
    const theirs = this.get(runtime, other, label);
    const ratios: number[] = [];
    for (let round = 0; round < mine.length; round++) {
      const a = mine[round];
      const b = theirs[round];
      // A negative RSS difference (the allocator gave memory back) has no meaningful ratio.
      if (a !== undefined && b !== undefined && a > 0 && b > 0) ratios.push(a / b);
    }
    return ratios;
  }
}

export const defined = (values: (number | undefined)[]) => values.filter((value): value is number => value !== undefined);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  count: number;
}

export function spread(values: number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), count: values.length };
}

/**
 * Noisy: the rounds disagree about which side of `from` the figure is on (1 for "do the two servers
 * differ", a target's ratio for "is it met"): some round lies on the other side, so the spread
 * toward `from` is larger than the difference the median shows. With 5 rounds that all agree,
 * chance alone would do that 1 time in 16. One round is never noisy: it cannot show its spread
 * (bench:quick).
 */
export const isNoisy = (s: Spread, from = 1) => s.count > 1 && s.min <= from && s.max >= from;

export type Verdict = "met" | "missed" | "noisy";

export function verdict(figure: Figure, target: Target, s: Spread): Verdict {
  if (isNoisy(s, target.ratio)) return "noisy";
  const met = figure.better === "higher" ? s.median >= target.ratio : s.median <= target.ratio;
  return met ? "met" : "missed";
}

export const fmt = (value: number) =>
  value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 2 });
