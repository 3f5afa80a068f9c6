// The benchmark: the raw runtime, raw crossws, Hono and wsloop on Node, Bun and Deno, twelve
// servers measured by one load client over 127.0.0.1, server and client pinned to different cores,
// the servers interleaved in an order that rotates from round to round. Prints medians with min–max
// and wsloop's ratios to the others, round by round; writes bench/results.md and results.svg.
//   npm run bench            full run (5 rounds, more for figures still noisy; see bench/README.md)
//   npm run bench:quick      proves the harness in well under a minute (1 round, short figures)
//   options: --runtimes=node,bun  --figures=pp1,idle,scale  --rounds=N  (a subset: no results.md)
//            --no-pin (no taskset)  --nice=-5 (servers and clients ahead of other work on the machine)
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { chart } from "./lib/chart.ts";
import { type Measurement, measurements, type Settings } from "./lib/figures.ts";
import {
  fileLimit,
  type Kind,
  pinning,
  priorityNote,
  type Result,
  type Runtime,
  root,
  runClient,
  type Server,
  startServer,
  stop,
} from "./lib/processes.ts";
import { kinds, tables, verdictText } from "./lib/report.ts";
import { scale, scaleLimit } from "./lib/scale.ts";
import { Samples, spread, verdict } from "./lib/stats.ts";

const quick = process.argv.includes("--quick");
const option = (name: string) =>
  process.argv
    .find((arg) => arg.startsWith(`--${name}=`))
    ?.split("=")[1]
    ?.split(",");
const runtimes = (option("runtimes") ?? ["node", "bun", "deno"]) as Runtime[];
const rounds = quick ? 1 : Number(option("rounds")?.[0] ?? 5);
/** A figure whose target is still noisy after `rounds` gets more rounds, up to this many. */
const maxRounds = quick ? 1 : rounds + 4;
const settings: Settings = quick
  ? { quick, seconds: 0.15, idleConnections: 200, scaleConnections: 300, latencyConnections: 50, latencySeconds: 0.25 }
  : {
      quick,
      seconds: 2,
      idleConnections: 5000,
      scaleConnections: Math.min(50_000, scaleLimit),
      latencyConnections: 1000,
      latencySeconds: 5,
    };
const only = option("figures");
const list = measurements(settings).filter((m) => !only || only.includes(m.id));
const partial = only !== undefined || runtimes.length < 3;

const samples = new Samples();
const problems: string[] = [];
let failures = 0;
const started = Date.now();
const loadBefore = loadavg()[0] as number;
const log = (what: string) => console.error(`${what} (${Math.round((Date.now() - started) / 1000)} s)`);
const applies = (m: Measurement, kind: Kind) => !m.kinds || m.kinds.includes(kind);
// Each round starts with another server, so none is always measured first (or last).
const rotated = (round: number) => kinds.map((_, i) => kinds[(i + round) % kinds.length] as Kind);

function record(runtime: Runtime, kind: Kind, m: Measurement, round: number, result: Result | undefined): void {
  if (!result) failures++;
  for (const figure of m.figures) samples.set(runtime, kind, figure.label, round, result?.[figure.metric]);
  const where = `${runtime} ${kind} ${m.id}, round ${round + 1}`;
  if (result?.unclosed) problems.push(`${where}: ${result.unclosed} close handler(s) not run within 30 s`);
  if (result?.failed) problems.push(`${where}: ${result.failed} connection(s) failed to open`);
  if (result?.lost) problems.push(`${where}: ${result.lost} echo(es) never answered`);
  if (result?.late) problems.push(`${where}: the client sent ${result.late} message(s) over 100 ms late`);
}

async function run(server: Server, m: Measurement): Promise<Result | undefined> {
  if (!m.scale) return (await runClient([{ ...m.job, port: server.port }], 180_000))[0];
  const job = m.job as { sub: "frame" | "topic"; connections: number };
  try {
    // bench:quick spreads its 300 over two client processes too, to prove that path.
    const perClient = quick ? 150 : undefined;
    return await scale({ ...job, port: server.port, broadcasts: quick ? 2 : 5, settleMs: quick ? 100 : 1000, perClient });
  } catch (error) {
    console.error(`  ${server.runtime} ${server.kind} ${m.id}: ${error}`);
    return undefined;
  }
}

/** Any target of `m` on `runtime` whose rounds so far cannot tell met from missed. */
const stillNoisy = (runtime: Runtime, m: Measurement) =>
  m.figures.some((figure) =>
    figure.targets.some((target) => {
      const s = spread(samples.ratios(runtime, target.against, figure.label));
      return s !== undefined && (!target.runtimes || target.runtimes.includes(runtime)) && verdict(figure, target, s) === "noisy";
    }),
  );

async function quickRuntime(runtime: Runtime): Promise<void> {
  // One client process per server runs every figure in turn; the servers start side by side.
  // Not pinned: four servers starting at once on one core would take twice as long, and one round
  // of short figures proves the harness, not a ratio.
  const servers = await Promise.all(kinds.map((kind) => startServer(runtime, kind, false)));
  for (const server of servers) {
    const batch = list.filter((m) => !m.scale && applies(m, server.kind));
    const results = await runClient(
      batch.map((m) => ({ ...m.job, port: server.port })),
      120_000,
    );
    batch.forEach((m, i) => {
      record(runtime, server.kind, m, 0, results[i]);
    });
    for (const m of list.filter((m) => m.scale && applies(m, server.kind)))
      record(runtime, server.kind, m, 0, await run(server, m));
  }
  await Promise.all(servers.map((server) => stop(server.child)));
  log(`${runtime}: all figures`);
}

async function fullRuntime(runtime: Runtime): Promise<void> {
  // Figures that open many connections: a fresh server process each, its RSS before the baseline.
  const fresh = list.filter((m) => m.fresh);
  for (let round = 0; round < rounds && fresh.length > 0; round++) {
    for (const kind of rotated(round)) {
      for (const m of fresh.filter((m) => applies(m, kind))) {
        const server = await startServer(runtime, kind);
        record(runtime, kind, m, round, await run(server, m));
        await stop(server.child);
      }
    }
    log(`${runtime}: connection figures, round ${round + 1}/${rounds}`);
  }
  // The others: per figure, four fresh servers side by side, each warmed up by a run of that figure
  // (dropped), then measured on all four, round after round, so a slow moment of this shared
  // machine hits the four alike. Fresh per figure because a server's heap carries what the previous
  // figure left in it: Node's 64 KiB echo measured after the connection figure paid for the full
  // GCs of the garbage that figure left (see bench/README.md), which is not the echo's cost.
  for (const m of list.filter((m) => !m.fresh)) {
    const servers: Server[] = [];
    for (const kind of kinds) if (applies(m, kind)) servers.push(await startServer(runtime, kind));
    for (const server of servers) await runClient([warmUp(m, server.port)], 60_000);
    let round = 0;
    for (; round < rounds || (round < maxRounds && stillNoisy(runtime, m)); round++) {
      for (const kind of rotated(round)) {
        const server = servers.find((s) => s.kind === kind);
        if (server) record(runtime, kind, m, round, await run(server, m));
      }
    }
    await Promise.all(servers.map((server) => stop(server.child)));
    log(`${runtime}: ${m.id} (${round} rounds)`);
  }
}

/** The dropped run before a figure: the figure itself, for its warm-up time (see Measurement.warmUp). */
const warmUp = (m: Measurement, port: number): Record<string, unknown> => {
  const seconds = m.job.seconds;
  return typeof seconds === "number" ? { ...m.job, port, seconds: Math.max(seconds, m.warmUp ?? 4) } : { ...m.job, port };
};

// bench:quick runs the three runtimes at once: its figures wait on sockets and timers more than
// they use the CPU, and their values only prove that every figure works on every server.
if (quick) await Promise.all(runtimes.map(quickRuntime));
else for (const runtime of runtimes) await fullRuntime(runtime);

const seconds = Math.round((Date.now() - started) / 1000);
const took = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
const versions = `Node ${process.versions.node}, Bun and Deno from node_modules (see package-lock.json)`;
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; ${versions}`;
const scaleNote =
  settings.scaleConnections < 50_000
    ? ` The scale figures open ${settings.scaleConnections.toLocaleString("en-US")} connections, not 50,000: this machine's hard limit on open files per process is ${fileLimit} (no CAP_SYS_RESOURCE to raise it), so no server process can hold more.`
    : "";
const { lines, verdicts } = tables(samples, runtimes, list);
const header = [
  quick
    ? `One round, ${settings.seconds} s per throughput figure.`
    : `Medians over ${rounds} rounds or more (min–max in brackets), ${settings.seconds} s per throughput figure; servers interleaved, order rotated each round; a warm-up run per server dropped.`,
  `Load client: Bun's WebSocket over 127.0.0.1 (the scale figures: raw TCP sockets from Bun, from 127.0.0.2 and up); ${pinning}${priorityNote}.${scaleNote}`,
  `Machine: ${machine}. Shared with other test runs: load average ${loadBefore.toFixed(1)} at the start, ${(loadavg()[0] as number).toFixed(1)} at the end; the run took ${took}.`,
  "Ratios are wsloop's value over the other's, round by round (both measured seconds apart), median (min–max); for RSS, times and latency lower is better.",
  "`~` marks a noisy ratio: its rounds fall on both sides of 1× (its spread toward 1× is larger than the difference it shows), so the bench cannot tell the two servers apart.",
  "",
];
const problemText = problems.length ? `Problems:\n${problems.map((p) => `- ${p}`).join("\n")}\n` : "";
// One short round proves that the harness works, not whether a target holds.
const judged = quick
  ? "bench:quick: one short round of each figure, unpinned servers; targets are judged by `npm run bench`.\n"
  : verdictText(verdicts);
const table = [...header, ...lines, judged, problemText].join("\n");
console.log(table);
if (failures > 0) {
  // A harness that lost a figure must not pass for one that works.
  console.error(`${failures} measurement(s) failed`);
  process.exitCode = 1;
}
if (!quick && !partial) {
  const date = new Date().toISOString().slice(0, 10);
  // The command as given: a run with fewer rounds says so.
  const args = process.argv.slice(2);
  const invocation = args.length === 0 ? "npm run bench" : `node --import tsx bench/run.ts ${args.join(" ")}`;
  writeFileSync(`${root}bench/results.svg`, chart(samples, runtimes, list, `wsloop against crossws, raw and Hono (${date})`));
  writeFileSync(
    `${root}bench/results.md`,
    `# Benchmark results\n\nRun on ${date} with \`${invocation}\`.\n\n![wsloop's ratios against crossws, the raw runtime and Hono](results.svg)\n\n${table}`,
  );
}
