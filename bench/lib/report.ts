// The tables of bench/results.md: per runtime, each server's median (min–max) per figure and
// wsloop's ratio to the others round by round; then each target as met, missed, or noisy.
import type { Measurement } from "./figures.ts";
import type { Kind, Runtime } from "./processes.ts";
import { defined, fmt, isNoisy, type Samples, spread, verdict } from "./stats.ts";

export const kinds: Kind[] = ["raw", "crossws", "hono", "wsloop"];
export const others: Kind[] = ["crossws", "raw", "hono"];

const cell = (values: (number | undefined)[]) => {
  const s = spread(defined(values));
  if (!s) return "–";
  return s.count > 1 ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median);
};

function ratioCell(samples: Samples, runtime: Runtime, other: Kind, label: string): string {
  const s = spread(samples.ratios(runtime, other, label));
  if (!s) return "–";
  const text = s.count > 1 ? `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : `${s.median.toFixed(2)}×`;
  return isNoisy(s) ? `~${text}` : text;
}

export interface Verdicts {
  met: string[];
  missed: string[];
  noisy: string[];
}

export function tables(samples: Samples, runtimes: Runtime[], list: Measurement[]): { lines: string[]; verdicts: Verdicts } {
  const lines: string[] = [];
  const verdicts: Verdicts = { met: [], missed: [], noisy: [] };
  for (const runtime of runtimes) {
    lines.push(
      `### ${runtime}`,
      "",
      "| figure | raw | crossws | Hono | wsloop | wsloop/crossws | wsloop/raw | wsloop/Hono |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const measurement of list) {
      for (const figure of measurement.figures) {
        const values = kinds.map((kind) => cell(samples.get(runtime, kind, figure.label)));
        // A figure this runtime cannot measure (full GCs are counted on Node only) gets no row.
        if (values.every((value) => value === "–")) continue;
        const ratios = others.map((other) => ratioCell(samples, runtime, other, figure.label));
        lines.push(`| ${figure.label} (${figure.unit}) | ${values.join(" | ")} | ${ratios.join(" | ")} |`);
        for (const target of figure.targets) {
          if (target.runtimes && !target.runtimes.includes(runtime)) continue;
          const s = spread(samples.ratios(runtime, target.against, figure.label));
          if (!s) continue;
          const sign = figure.better === "higher" ? "≥" : "≤";
          const range = s.count > 1 ? ` (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : "";
          const line = `${runtime}: ${figure.label}: ${s.median.toFixed(2)}×${range} ${target.against}, target ${sign} ${target.ratio}×`;
          verdicts[verdict(figure, target, s)].push(line);
        }
      }
    }
    lines.push("");
  }
  return { lines, verdicts };
}

export function verdictText(verdicts: Verdicts): string {
  const list = (title: string, items: string[]) => (items.length ? [`${title}:`, ...items.map((item) => `- ${item}`), ""] : []);
  return [
    ...list("Targets missed", verdicts.missed),
    ...list("Noisy, neither met nor missed (some rounds on each side of the target)", verdicts.noisy),
    ...list("Targets met", verdicts.met),
  ].join("\n");
}
