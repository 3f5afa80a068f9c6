// npm run test:conformance: the Autobahn TestSuite (RFC 6455 conformance) against wsloop's echo app
// (test/conformance/app.ts) on Node, Bun and Deno. The suite is run by ../shared/autobahn/fuzz,
// beside the repository; its last line `N passed, M failed` is what CI reads.
//
// usage: node --import tsx test/conformance/run.ts [--full] [--deflate] [--parallel] [--cases PATTERNS] [RUNTIME...]
//   (default) the CI subset: CI_CASES less CI_EXCLUDE with wsloop's defaults, then DEFLATE_CI_CASES
//     against servers with `compression` on (Node and Bun: Deno has no permessage-deflate)
//   --full: sections 1-7, 9 and 10 (fuzz's default), then 12 and 13 with compression (hours: the
//     suite's Python client compresses slowly)
//   --deflate: only the run with compression on (its CI subset, or with --full 12 and 13 whole)
//   --cases PATTERNS: only these cases (against the compression servers with --deflate)
//   --parallel: one fuzz per runtime at once (each runtime still gets its cases one at a time); no
//     faster on 2 cores, where the suite's client and the servers compete (full run: 535 s vs 413 s)
//   RUNTIME: node, bun, deno (default: all three)
// Exit status: 0 when no case FAILED, 1 when one did, 2 when the suite or a server could not run.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type FixtureServer, type Runtime, startScript } from "../matrix/server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const RUNTIMES: readonly Runtime[] = ["node", "bun", "deno"];

/** Fuzz's default selection: every core protocol section (8 does not exist; 12 and 13 are deflate). */
const CI_CASES = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*";
const cases = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}.${from + i}`);
/**
 * What CI leaves out of the full run (about half of its time, 26 of 301 cases per runtime): the
 * middle sizes of section 9. It keeps 9.1.6/9.2.6 (16 MiB, maxMessageSize and Bun's
 * maxPayloadLength), 9.3.1/9.4.1 (4 MiB in 64-byte fragments, ws' fragment cap), 64-byte chops
 * (9.5.1/9.6.1) and every round-trip case (9.7, 9.8). `npm run test:conformance:full` runs them all.
 */
const CI_EXCLUDE = [
  "9.1.5",
  "9.2.5",
  ...cases("9.3", 2, 9),
  ...cases("9.4", 2, 9),
  ...cases("9.5", 2, 5),
  ...cases("9.6", 2, 5),
].join(",");

/**
 * What CI runs of sections 12 and 13 (permessage-deflate, 1,000 messages per case): each test data
 * set (12.1-12.5: JSON and HTML text, a bitmap, German text, a PDF) and each negotiation the suite
 * offers (13.1-13.7: defaults, no context takeover, window bits 9 and 15, both), at 256 bytes per
 * message: above Node's 128-byte threshold, so replies are compressed too. Larger and fragmented
 * messages take tens of seconds a case with the suite's Python client: `--full` runs them.
 */
const DEFLATE_CI_CASES = ["12.1", "12.2", "12.3", "12.4", "12.5", "13.1", "13.2", "13.3", "13.4", "13.5", "13.6", "13.7"]
  .map((section) => `${section}.3`)
  .join(",");
const DEFLATE_CASES = "12.*,13.*";
/** Runtimes that offer permessage-deflate. */
const DEFLATE_RUNTIMES: readonly Runtime[] = ["node", "bun"];

interface Args {
  full: boolean;
  deflate: boolean;
  parallel: boolean;
  cases: string | undefined;
  runtimes: Runtime[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { full: false, deflate: false, parallel: false, cases: undefined, runtimes: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--full") args.full = true;
    else if (arg === "--parallel") args.parallel = true;
    else if (arg === "--deflate") args.deflate = true;
    else if (arg === "--cases") args.cases = argv[++i];
    else if ((RUNTIMES as readonly string[]).includes(arg)) args.runtimes.push(arg as Runtime);
    else usage(`unknown argument ${arg}`);
  }
  if (args.runtimes.length === 0) args.runtimes = [...RUNTIMES];
  return args;
}

function usage(message: string): never {
  console.error(
    `conformance: ${message}\nusage: test/conformance/run.ts [--full] [--deflate] [--parallel] [--cases PATTERNS] [node|bun|deno...]`,
  );
  process.exit(2);
}

/** The suite's runner, `../shared/autobahn/fuzz` beside the repository (AUTOBAHN_FUZZ overrides). */
function findFuzz(): string {
  const fuzz = process.env.AUTOBAHN_FUZZ ?? resolve(root, "../shared/autobahn/fuzz");
  if (!existsSync(fuzz)) {
    console.error(
      `conformance: the Autobahn runner is missing: ${fuzz} does not exist.\n` +
        "It comes from the shared folder beside the repository (../shared/autobahn); set AUTOBAHN_FUZZ to its path to use another.",
    );
    process.exit(2);
  }
  return fuzz;
}

/** Runs fuzz; its stdout is printed once it ends (runs in parallel do not interleave). */
function runFuzz(fuzz: string, args: string[], env: Record<string, string>, prefix: string): Promise<[number, string]> {
  return new Promise((done) => {
    const child = spawn(fuzz, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => process.stderr.write(prefix + chunk.toString()));
    child.on("error", (error) => {
      console.error(`conformance: could not run ${fuzz}: ${error.message}`);
      done([2, ""]);
    });
    child.on("close", (code) => {
      process.stdout.write(out);
      done([code ?? 2, out]);
    });
  });
}

/** `N passed, M failed` of one fuzz output, or undefined. */
function counts(output: string): [number, number] | undefined {
  const match = /^(\d+) passed, (\d+) failed$/m.exec(output);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** One fuzz run: which servers (compression on or off), which cases. */
interface Plan {
  name: string;
  runtimes: Runtime[];
  /** With `compression` on (WSLOOP_COMPRESSION=1), and named wsloop-RUNTIME-deflate. */
  deflate: boolean;
  selection: string[];
}

function plansOf(args: Args): Plan[] {
  const select = (cases: string | undefined, exclude: string) => [
    ...(cases ? ["--cases", cases] : []),
    ...(exclude ? ["--exclude", exclude] : []),
  ];
  const plans: Plan[] = [];
  if (!args.deflate) {
    const cases = args.cases ?? (args.full ? undefined : CI_CASES);
    const exclude = args.cases || args.full ? "" : CI_EXCLUDE;
    plans.push({ name: "core", runtimes: args.runtimes, deflate: false, selection: select(cases, exclude) });
  }
  const deflating = args.runtimes.filter((runtime) => DEFLATE_RUNTIMES.includes(runtime));
  if ((args.deflate || !args.cases) && deflating.length > 0) {
    const cases = args.deflate && args.cases ? args.cases : args.full ? DEFLATE_CASES : DEFLATE_CI_CASES;
    plans.push({ name: "permessage-deflate", runtimes: deflating, deflate: true, selection: select(cases, "") });
  }
  return plans;
}

/** Runs one plan: its servers, then fuzz (one per runtime with --parallel). */
async function runPlan(
  plan: Plan,
  args: Args,
  fuzz: string,
  out: string,
): Promise<{ exit: number; totals: ([number, number] | undefined)[] }> {
  const servers = new Map<Runtime, FixtureServer>();
  const name = (runtime: Runtime) => `wsloop-${runtime}${plan.deflate ? "-deflate" : ""}`;
  try {
    for (const runtime of plan.runtimes) {
      const env: Record<string, string> = plan.deflate ? { WSLOOP_COMPRESSION: "1" } : {};
      servers.set(runtime, await startScript(runtime, `test/conformance/echo-${runtime}.ts`, /READY (\d+)/, env));
    }
    const target = (runtime: Runtime) => `${name(runtime)}=${servers.get(runtime)?.ws}`;
    let runs: [number, string][];
    if (!args.parallel) {
      runs = [await runFuzz(fuzz, [...plan.selection, "--out", join(out, plan.name), ...plan.runtimes.map(target)], {}, "")];
    } else {
      // One fuzz per runtime, each with its own reports and its own copy of the suite (no race
      // between first-time unpacks); their summaries are printed one after the other, then the total.
      runs = await Promise.all(
        plan.runtimes.map((runtime) =>
          runFuzz(
            fuzz,
            [...plan.selection, "--out", join(out, plan.name, runtime), target(runtime)],
            { AUTOBAHN_SITE: join(out, `site-${runtime}`) },
            `[${runtime}] `,
          ),
        ),
      );
    }
    for (const [runtime, server] of servers) {
      const extra = server
        .output()
        .replace(/^READY \d+\n/m, "")
        .trim();
      if (extra) console.log(`\n${name(runtime)} server output:\n${extra.slice(-4000)}`);
    }
    // A server that died during the run fails it even if the suite's verdicts did not show it.
    const crashed: string[] = [];
    for (const [runtime, server] of servers) {
      const exit = await Promise.race([server.exited, Promise.resolve("running" as const)]);
      if (exit !== "running") crashed.push(`${name(runtime)} (exit ${exit})`);
    }
    if (crashed.length > 0) console.error(`conformance: server exited during the run: ${crashed.join(", ")}`);
    return {
      exit: Math.max(crashed.length > 0 ? 1 : 0, ...runs.map(([exit]) => exit)),
      totals: runs.map(([, output]) => counts(output)),
    };
  } finally {
    await Promise.all([...servers.values()].map((server) => server.kill()));
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const fuzz = findFuzz();
  const out = mkdtempSync(join(tmpdir(), "wsloop-conformance-"));
  const started = Date.now();
  let exit = 0;
  const totals: ([number, number] | undefined)[] = [];
  for (const plan of plansOf(args)) {
    const planStarted = Date.now();
    console.log(`\n== ${plan.name}: ${plan.runtimes.join(", ")}`);
    const result = await runPlan(plan, args, fuzz, out);
    exit = Math.max(exit, result.exit);
    totals.push(...result.totals);
    console.error(`conformance: ${plan.name} in ${Math.round((Date.now() - planStarted) / 1000)} s`);
  }
  console.error(`conformance: ${Math.round((Date.now() - started) / 1000)} s in all; reports in ${out}`);
  // CI reads the last line: fuzz's own, summed over every run.
  if (totals.length > 0 && totals.every((total) => total !== undefined)) {
    const sum = (i: 0 | 1) => totals.reduce((n, total) => n + (total?.[i] ?? 0), 0);
    console.log(`${sum(0)} passed, ${sum(1)} failed`);
  }
  return exit;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error("conformance:", error);
  return 2;
});
