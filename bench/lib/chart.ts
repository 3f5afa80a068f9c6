// bench/results.svg: wsloop against crossws, the raw runtime and Hono, one panel per runtime, one
// row per figure; a marker at the median ratio over the rounds, a line from min to max, a hollow
// marker where the figure is noisy. Ratios are turned so that right of 1× is wsloop better, for
// every figure (a lower RSS or latency too), on a log scale from 1/4× to 4×.
import type { Measurement } from "./figures.ts";
import type { Kind, Runtime } from "./processes.ts";
import { isNoisy, type Samples, spread } from "./stats.ts";

const style: Record<string, { color: string; shape: "circle" | "square" | "diamond"; dy: number }> = {
  crossws: { color: "#1f6fb4", shape: "circle", dy: -6 },
  raw: { color: "#6b6b6b", shape: "square", dy: 0 },
  hono: { color: "#e8710a", shape: "diamond", dy: 6 },
};
const labelWidth = 330;
const panelWidth = 250;
const gap = 24;
const rowHeight = 24;
const top = 78;
const low = 0.25;
const high = 4;

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const clamp = (value: number) => Math.min(high, Math.max(low, value));
const x = (panel: number, ratio: number) =>
  labelWidth +
  panel * (panelWidth + gap) +
  ((Math.log(clamp(ratio)) - Math.log(low)) / (Math.log(high) - Math.log(low))) * panelWidth;

function marker(shape: string, cx: number, cy: number, color: string, hollow: boolean): string {
  const fill = hollow ? "#fff" : color;
  const paint = `fill="${fill}" stroke="${color}" stroke-width="1.5"`;
  if (shape === "circle") return `<circle cx="${cx.toFixed(1)}" cy="${cy}" r="4" ${paint}/>`;
  if (shape === "square") return `<rect x="${(cx - 3.5).toFixed(1)}" y="${cy - 3.5}" width="7" height="7" ${paint}/>`;
  return `<path d="M${cx.toFixed(1)} ${cy - 5}l5 5-5 5-5-5z" ${paint}/>`;
}

export function chart(samples: Samples, runtimes: Runtime[], list: Measurement[], title: string): string {
  // Figures measured on wsloop alone have no ratio to draw.
  const rows = list
    .filter((measurement) => !measurement.kinds)
    .flatMap((measurement) => measurement.figures)
    .filter((figure) => !figure.uncharted);
  const width = labelWidth + runtimes.length * (panelWidth + gap);
  const height = top + rows.length * rowHeight + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    // The chart's alternative text, for readers that cannot see it.
    `<title>${xml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${xml(title)}</text>`,
    `<text x="10" y="40" fill="#444">How many times better wsloop is (right of 1×: wsloop faster or smaller), median of the rounds, line: min–max, hollow: noisy.</text>`,
  ];
  let legend = 10;
  for (const [kind, s] of Object.entries(style)) {
    out.push(marker(s.shape, legend + 5, 58, s.color, false));
    out.push(`<text x="${legend + 14}" y="62">wsloop vs ${kind === "hono" ? "Hono" : kind}</text>`);
    legend += 140;
  }
  // Row shading first, then the grid over it, then the markers over both.
  rows.forEach((_, row) => {
    if (row % 2 === 0)
      out.push(`<rect x="0" y="${top + row * rowHeight}" width="${width}" height="${rowHeight}" fill="#f4f4f4"/>`);
  });
  runtimes.forEach((runtime, panel) => {
    const left = x(panel, low);
    out.push(`<text x="${left + panelWidth / 2}" y="${top - 4}" text-anchor="middle" font-weight="bold">${runtime}</text>`);
    for (const tick of [0.25, 0.5, 1, 2, 4]) {
      const tx = x(panel, tick).toFixed(1);
      const stroke = tick === 1 ? `stroke="#000"` : `stroke="#ddd"`;
      out.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${top + rows.length * rowHeight}" ${stroke}/>`);
      const label = tick < 1 ? `1/${1 / tick}×` : `${tick}×`;
      out.push(`<text x="${tx}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#444">${label}</text>`);
    }
    const target = x(panel, 0.95).toFixed(1);
    out.push(
      `<line x1="${target}" y1="${top}" x2="${target}" y2="${top + rows.length * rowHeight}" stroke="#c00" stroke-dasharray="3 3"/>`,
    );
  });
  out.push(
    `<text x="${labelWidth}" y="${height - 6}" fill="#c00">dashed: 0.95×, the targets against crossws (≥ 0.95× throughput, ≤ 1.05× RSS)</text>`,
  );
  rows.forEach((figure, row) => {
    const cy = top + row * rowHeight + rowHeight / 2;
    out.push(`<text x="${labelWidth - 8}" y="${cy + 4}" text-anchor="end">${xml(figure.label)}</text>`);
    runtimes.forEach((runtime, panel) => {
      for (const [kind, s] of Object.entries(style)) {
        const raw = spread(samples.ratios(runtime, kind as Kind, figure.label));
        if (!raw) continue;
        // Turned so that > 1 is wsloop better: lower-is-better ratios are inverted.
        const turn = (value: number) => (figure.better === "higher" ? value : 1 / value);
        const [a, b] = [turn(raw.min), turn(raw.max)];
        const y = cy + s.dy;
        out.push(
          `<line x1="${x(panel, Math.min(a, b)).toFixed(1)}" y1="${y}" x2="${x(panel, Math.max(a, b)).toFixed(1)}" y2="${y}" stroke="${s.color}" stroke-width="1.5"/>`,
        );
        out.push(marker(s.shape, x(panel, turn(raw.median)), y, s.color, isNoisy(raw)));
      }
    });
  });
  out.push("</svg>", "");
  return out.join("\n");
}
