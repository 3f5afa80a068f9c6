// The benchmark: raw runtime, raw crossws and wsloop on Node, Bun and Deno, nine servers, measured
// in one run by one load client over 127.0.0.1, alternating the servers' order from round to round.
// Prints medians with min–max and the ratios wsloop/crossws and wsloop/raw; writes bench/results.md.
//   npm run bench            full run (3 rounds, 3 s per figure, 5,000 idle connections)
//   npm run bench:quick      proves the harness in under a minute (1 round, short figures)
//   options: --runtimes=node,bun  --figures=pingpong,idle  (a subset, for profiling; no results.md)
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

type Runtime = "node" | "bun" | "deno";
type Kind = "raw" | "crossws" | "wsloop";
type Better = "higher" | "lower";
interface Figure {
  label: string;
  figure: string;
  connections: number;
  metric: string;
  unit: string;
  better: Better;
  /** Measured only on wsloop servers (no counterpart elsewhere). */
  wsloopOnly?: boolean;
}

const quick = process.argv.includes("--quick");
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const rounds = quick ? 1 : 3;
const seconds = quick ? 0.4 : 3;
const idleConnections = quick ? 200 : 5000;
const option = (name: string) =>
  process.argv
    .find((arg) => arg.startsWith(`--${name}=`))
    ?.split("=")[1]
    ?.split(",");
const runtimes = (option("runtimes") ?? ["node", "bun", "deno"]) as Runtime[];
const only = option("figures");
const kinds: Kind[] = ["raw", "crossws", "wsloop"];
const clientRuntime: Runtime = "bun";
/** Figures that produced no result: the run fails if there are any. */
let failures = 0;

const n = idleConnections.toLocaleString("en-US");
// Memory first: measured on a fresh server process, before the throughput figures grow its heap.
const allFigures: Figure[] = [
  {
    label: `RSS per idle connection, ${n} open`,
    figure: "idle",
    connections: idleConnections,
    metric: "rssPerConnection",
    unit: "bytes",
    better: "lower",
  },
  {
    label: `broadcast to ${n} (fast path)`,
    figure: "idle",
    connections: idleConnections,
    metric: "broadcastMs",
    unit: "ms",
    better: "lower",
  },
  {
    label: "ping-pong, 1 connection",
    figure: "pingpong",
    connections: 1,
    metric: "messagesPerSecond",
    unit: "msg/s",
    better: "higher",
  },
  {
    label: "ping-pong, 50 connections",
    figure: "pingpong",
    connections: 50,
    metric: "messagesPerSecond",
    unit: "msg/s",
    better: "higher",
  },
  {
    label: "ping-pong, 200 connections",
    figure: "pingpong",
    connections: 200,
    metric: "messagesPerSecond",
    unit: "msg/s",
    better: "higher",
  },
  {
    label: "pipelined, 50 × 64 in flight",
    figure: "pipelined",
    connections: 50,
    metric: "messagesPerSecond",
    unit: "msg/s",
    better: "higher",
  },
  {
    label: "binary 64 KiB echo, 8 connections",
    figure: "binary",
    connections: 8,
    metric: "megabytesPerSecond",
    unit: "MB/s",
    better: "higher",
  },
  {
    label: "open + echo + close, 20 at a time",
    figure: "connrate",
    connections: 20,
    metric: "connectionsPerSecond",
    unit: "conn/s",
    better: "higher",
  },
  {
    label: `broadcast to ${n} (topic selectors)`,
    figure: "broadcastTopic",
    connections: idleConnections,
    metric: "broadcastMs",
    unit: "ms",
    better: "lower",
    wsloopOnly: true,
  },
];

const figures = only ? allFigures.filter((figure) => only.includes(figure.figure)) : allFigures;
const partial = only !== undefined || runtimes.length < 3;

function command(runtime: Runtime, script: string): [string, string[]] {
  if (runtime === "node") return [process.execPath, ["--import", "tsx", script]];
  if (runtime === "bun") return [bin("bun"), ["run", script]];
  return [bin("deno"), ["run", "-A", script]];
}

function serverScript(runtime: Runtime, kind: Kind): string {
  return kind === "raw" ? `bench/servers/raw-${runtime}.ts` : `bench/servers/${kind}.ts`;
}

async function startServer(runtime: Runtime, kind: Kind): Promise<{ port: number; child: ChildProcess }> {
  const [cmd, args] = command(runtime, serverScript(runtime, kind));
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NO_COLOR: "1" } });
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`${runtime} ${kind} did not start`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk;
      const match = /READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`${runtime} ${kind} exited with ${code}`)));
  });
  return { port, child };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** Runs one figure in a fresh client process; a figure that fails or hangs is reported, not fatal. */
async function measure(port: number, figure: Figure): Promise<Record<string, number> | undefined> {
  const job = JSON.stringify({ port, figure: figure.figure, connections: figure.connections, seconds });
  const [cmd, args] = command(clientRuntime, "bench/client.ts");
  const child = spawn(cmd, [...args, job], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  await new Promise((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  const match = /RESULT (.*)/.exec(output);
  if (!match) {
    failures++;
    console.error(`  ${figure.label}: no result\n${output.slice(-500)}`);
    return undefined;
  }
  return JSON.parse(match[1] as string) as Record<string, number>;
}

// samples[runtime][kind][label] = values over the rounds
const samples = new Map<string, number[]>();
const key = (runtime: Runtime, kind: Kind, label: string) => `${runtime}/${kind}/${label}`;

const started = Date.now();
const record = (runtime: Runtime, kind: Kind, figure: Figure, result: Record<string, number> | undefined) => {
  const value = result?.[figure.metric];
  if (value === undefined) return;
  const k = key(runtime, kind, figure.label);
  samples.set(k, [...(samples.get(k) ?? []), value]);
};
const log = (what: string) => console.error(`${what} (${Math.round((Date.now() - started) / 1000)} s)`);
// Each round starts with another kind, so no server is always measured first (or last).
const rotated = (round: number) => kinds.map((_, i) => kinds[(i + round) % kinds.length] as Kind);
// Figures that open many connections run on a fresh server process each (its RSS before is the
// baseline); the others run on three servers kept up side by side, each figure measured on all
// three before the next, so a slow moment of this shared machine hits the three alike.
const isFresh = (figure: Figure) => figure.figure === "idle" || figure.figure === "broadcastTopic";

for (const runtime of runtimes) {
  for (let round = 0; round < rounds; round++) {
    for (const kind of rotated(round)) {
      const fresh = figures.filter((figure) => isFresh(figure) && (!figure.wsloopOnly || kind === "wsloop"));
      const cache = new Map<string, Record<string, number> | undefined>();
      for (const figure of fresh) {
        const id = `${figure.figure}/${figure.connections}`;
        if (!cache.has(id)) {
          const { port, child } = await startServer(runtime, kind);
          cache.set(id, await measure(port, figure));
          await stop(child);
        }
        record(runtime, kind, figure, cache.get(id));
      }
    }
    log(`${runtime}: connection figures, round ${round + 1}/${rounds}`);
  }
  const servers = new Map<Kind, { port: number; child: ChildProcess }>();
  for (const kind of kinds) servers.set(kind, await startServer(runtime, kind));
  for (const figure of figures.filter((figure) => !isFresh(figure))) {
    for (let round = 0; round < rounds; round++) {
      for (const kind of rotated(round))
        record(runtime, kind, figure, await measure((servers.get(kind) as { port: number }).port, figure));
    }
    log(`${runtime}: ${figure.label}`);
  }
  for (const { child } of servers.values()) await stop(child);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const fmt = (value: number) =>
  value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 2 });
const cell = (values: number[] | undefined) =>
  values && values.length > 0
    ? `${fmt(median(values))}${values.length > 1 ? ` (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})` : ""}`
    : "–";

/** wsloop's median over the other server's, for one figure on one runtime. */
function ratio(runtime: Runtime, other: Kind, figure: Figure): { text: string; value?: number } {
  const mine = samples.get(key(runtime, "wsloop", figure.label));
  const theirs = samples.get(key(runtime, other, figure.label));
  if (!mine?.length || !theirs?.length) return { text: "–" };
  const value = median(mine) / median(theirs);
  return { text: `${value.toFixed(2)}×`, value };
}

const lines: string[] = [];
const targets: string[] = [];
for (const runtime of runtimes) {
  lines.push(
    `### ${runtime}`,
    "",
    "| figure | raw | crossws | wsloop | wsloop/crossws | wsloop/raw |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const figure of figures) {
    const c = (kind: Kind) => cell(samples.get(key(runtime, kind, figure.label)));
    const vsCrossws = figure.wsloopOnly ? { text: "–" } : ratio(runtime, "crossws", figure);
    const vsRaw = figure.wsloopOnly ? { text: "–" } : ratio(runtime, "raw", figure);
    lines.push(
      `| ${figure.label} (${figure.unit}) | ${c("raw")} | ${c("crossws")} | ${c("wsloop")} | ${vsCrossws.text} | ${vsRaw.text} |`,
    );
    // Targets: throughput ≥ 0.95× crossws and ≥ 0.90× raw; memory per connection ≤ 1.10× crossws.
    if (figure.better === "higher" && vsCrossws.value !== undefined && vsRaw.value !== undefined) {
      if (vsCrossws.value < 0.95 || vsRaw.value < 0.9)
        targets.push(`${runtime}: ${figure.label} at ${vsCrossws.text} crossws, ${vsRaw.text} raw`);
    }
    if (figure.metric === "rssPerConnection" && vsCrossws.value !== undefined && vsCrossws.value > 1.1) {
      targets.push(`${runtime}: ${figure.label} at ${vsCrossws.text} crossws`);
    }
  }
  lines.push("");
}

const versions = `Node ${process.versions.node}, Bun and Deno from node_modules (see package-lock.json)`;
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; ${versions}`;
const header = [
  `Medians over ${rounds} round${rounds > 1 ? "s" : ""} (min–max in brackets), ${seconds} s per throughput figure,`,
  `load client: ${clientRuntime}'s WebSocket over 127.0.0.1. Machine: ${machine}.`,
  "For RSS and broadcast time lower is better; their ratios are still wsloop's value over the other's.",
  "",
];
const verdict = targets.length === 0 ? "All targets hold." : `Targets missed:\n${targets.map((t) => `- ${t}`).join("\n")}`;
const table = [...header, ...lines, verdict, ""].join("\n");
console.log(table);
if (failures > 0) {
  // A harness that lost a figure must not pass for one that works.
  console.error(`${failures} measurement(s) failed`);
  process.exitCode = 1;
}
if (!quick && !partial) {
  writeFileSync(
    `${root}bench/results.md`,
    `# Benchmark results\n\nRun on ${new Date().toISOString().slice(0, 10)} with \`npm run bench\`.\n\n${table}`,
  );
}
