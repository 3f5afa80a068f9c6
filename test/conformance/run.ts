// npm run test:conformance: the Autobahn TestSuite (RFC 6455 conformance) against wsloop's echo app
// (test/conformance/app.ts) on Node, Bun and Deno. The suite is run by ../shared/autobahn/fuzz,
// beside the repository; its last line `N passed, M failed` is what CI reads.
//
// usage: node --import tsx test/conformance/run.ts [--full] [--parallel] [--cases PATTERNS] [RUNTIME...]
//   (default) the CI subset, see CI_EXCLUDE; --full: sections 1-7, 9 and 10 (fuzz's default)
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

interface Args {
  full: boolean;
  parallel: boolean;
  cases: string | undefined;
  runtimes: Runtime[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { full: false, parallel: false, cases: undefined, runtimes: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--full") args.full = true;
    else if (arg === "--parallel") args.parallel = true;
    else if (arg === "--cases") args.cases = argv[++i];
    else if ((RUNTIMES as readonly string[]).includes(arg)) args.runtimes.push(arg as Runtime);
    else usage(`unknown argument ${arg}`);
  }
  if (args.runtimes.length === 0) args.runtimes = [...RUNTIMES];
  return args;
}

function usage(message: string): never {
  console.error(
    `conformance: ${message}\nusage: test/conformance/run.ts [--full] [--parallel] [--cases PATTERNS] [node|bun|deno...]`,
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

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const fuzz = findFuzz();
  const cases = args.cases ?? (args.full ? undefined : CI_CASES);
  const exclude = args.cases || args.full ? "" : CI_EXCLUDE;
  const selection = [...(cases ? ["--cases", cases] : []), ...(exclude ? ["--exclude", exclude] : [])];
  const out = mkdtempSync(join(tmpdir(), "wsloop-conformance-"));
  const servers = new Map<Runtime, FixtureServer>();
  const started = Date.now();
  try {
    for (const runtime of args.runtimes) {
      servers.set(runtime, await startScript(runtime, `test/conformance/echo-${runtime}.ts`, /READY (\d+)/));
    }
    const target = (runtime: Runtime) => `wsloop-${runtime}=${servers.get(runtime)?.ws}`;
    let runs: [number, string][];
    if (!args.parallel) {
      runs = [await runFuzz(fuzz, [...selection, "--out", out, ...args.runtimes.map(target)], {}, "")];
    } else {
      // One fuzz per runtime, each with its own reports and its own copy of the suite (no race
      // between first-time unpacks); their summaries are printed one after the other, then the total.
      runs = await Promise.all(
        args.runtimes.map((runtime) =>
          runFuzz(
            fuzz,
            [...selection, "--out", join(out, runtime), target(runtime)],
            { AUTOBAHN_SITE: join(out, `site-${runtime}`) },
            `[${runtime}] `,
          ),
        ),
      );
    }
    const totals = runs.map(([, output]) => counts(output));
    for (const [runtime, server] of servers) {
      const extra = server
        .output()
        .replace(/^READY \d+\n/m, "")
        .trim();
      if (extra) console.log(`\n${runtime} server output:\n${extra.slice(-4000)}`);
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    console.error(`conformance: ${args.runtimes.join(", ")} in ${seconds} s; reports in ${out}`);
    // CI reads the last line: fuzz's own (summed over runs in parallel), repeated after the servers' output.
    if (totals.every((total) => total !== undefined)) {
      const sum = (i: 0 | 1) => totals.reduce((n, total) => n + (total?.[i] ?? 0), 0);
      console.log(`${sum(0)} passed, ${sum(1)} failed`);
    }
    // A server that died during the run fails it even if the suite's verdicts did not show it.
    const crashed: string[] = [];
    for (const [runtime, server] of servers) {
      const exit = await Promise.race([server.exited, Promise.resolve("running" as const)]);
      if (exit !== "running") crashed.push(`${runtime} (exit ${exit})`);
    }
    if (crashed.length > 0) console.error(`conformance: server exited during the run: ${crashed.join(", ")}`);
    return Math.max(crashed.length > 0 ? 1 : 0, ...runs.map(([exit]) => exit));
  } finally {
    await Promise.all([...servers.values()].map((server) => server.kill()));
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error("conformance:", error);
  return 2;
});
