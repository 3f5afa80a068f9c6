// Child processes of the bench: servers and load clients, each pinned to a core of its own when
// `taskset` exists and the machine has two cores or more (server on the last core, clients on the
// first), and each with its file limit raised to the hard limit (50,000 sockets need it).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export type Runtime = "node" | "bun" | "deno";
export type Kind = "raw" | "crossws" | "wsloop" | "hono";

export const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const cores = cpus().length;
/** Where processes run: "server on core 1, clients on core 0", or why they are not pinned. */
export const pinning = process.argv.includes("--no-pin")
  ? "not pinned (--no-pin)"
  : !hasTaskset()
    ? "not pinned (no taskset)"
    : cores < 2
      ? "not pinned (one core)"
      : `server on core ${cores - 1}, load clients on core 0 (taskset)`;
const pinned = pinning.endsWith("(taskset)");

/**
 * --nice=-5: servers and clients run at that nice level (below 0 needs root or CAP_SYS_NICE): on a
 * machine shared with other work, the bench's processes then get more of the CPU than the others,
 * whose load otherwise lands on one server's round and not the next's.
 */
const niceness = process.argv.find((arg) => arg.startsWith("--nice="))?.split("=")[1];
const priority = niceness ? ["nice", "-n", niceness] : [];
export const priorityNote = niceness ? `, at nice ${niceness}` : "";

/** The hard limit on open files, which every child raises its soft limit to. */
export const fileLimit = ((text) => (text === "unlimited" ? Number.POSITIVE_INFINITY : Number(text) || 1024))(
  execFileSync("sh", ["-c", "ulimit -Hn"]).toString().trim(),
);

/** Node's binary: this process' own only when this process is Node (bench/memory.ts runs on Bun). */
const nodeBin = "Bun" in globalThis || "Deno" in globalThis ? "node" : process.execPath;

let bundles: string | undefined;

/**
 * Node runs the servers as one JavaScript bundle each (made once per run by `bun build`), not
 * through tsx: tsx compiles with esbuild's keepNames, which wraps every function it creates in a
 * `__name(...)` call (an Object.defineProperty) that wsloop's published build does not have, and
 * starting tsx takes a second or more per process.
 */
function nodeBundle(script: string): string {
  if (!bundles) {
    bundles = mkdtempSync(join(tmpdir(), "wsloop-bench-"));
    const dir = bundles;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const scripts = readdirSync(join(root, "bench/servers"))
      .filter((name) => !name.startsWith("raw-") || name === "raw-node.ts")
      .map((name) => `bench/servers/${name}`);
    // ws' optional native add-ons stay imports (ws falls back to JavaScript without them).
    const external = ["bufferutil", "utf-8-validate"].flatMap((name) => ["--external", name]);
    execFileSync(bin("bun"), ["build", ...scripts, "--target=node", ...external, `--outdir=${dir}`], {
      cwd: root,
      stdio: "ignore",
    });
  }
  return join(bundles, script.replace(/^bench\/servers\//, "").replace(/\.ts$/, ".js"));
}

/** The command line of `script` on `runtime`, pinned to `cpu` and with its file limit raised. */
export function command(
  runtime: Runtime,
  script: string,
  cpu: "server" | "client" | "any",
  extra: string[] = [],
): [string, string[]] {
  const run =
    runtime === "node"
      ? script.startsWith("bench/servers/")
        ? [nodeBin, ...extra, nodeBundle(script)]
        : [nodeBin, ...extra, "--import", "tsx", script]
      : runtime === "bun"
        ? [bin("bun"), "run", ...extra, script]
        : [bin("deno"), "run", "-A", ...extra, script];
  const raised = ["sh", "-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh", ...run];
  const core = cpu === "server" ? cores - 1 : 0;
  const pin = pinned && cpu !== "any" ? ["taskset", "-c", String(core)] : [];
  const line = [...priority, ...pin, ...raised];
  return [line[0] as string, line.slice(1)];
}

export function serverScript(runtime: Runtime, kind: Kind): string {
  return kind === "raw" ? `bench/servers/raw-${runtime}.ts` : `bench/servers/${kind}.ts`;
}

export interface Server {
  runtime: Runtime;
  kind: Kind;
  port: number;
  child: ChildProcess;
}

export async function startServer(runtime: Runtime, kind: Kind, pin = true): Promise<Server> {
  const [cmd, args] = command(runtime, serverScript(runtime, kind), pin ? "server" : "any");
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NO_COLOR: "1" } });
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`${runtime} ${kind} did not start`)), 60_000);
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
  return { runtime, kind, port, child };
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

export type Result = Record<string, number>;

/**
 * Runs bench/client.ts (on Bun) with one job or a batch; its `RESULT {json}` lines, one per job,
 * or undefined for the jobs it did not finish (the output's tail goes to stderr).
 */
export async function runClient(jobs: object[], timeoutMs: number): Promise<(Result | undefined)[]> {
  const [cmd, args] = command("bun", "bench/client.ts", "client");
  const child = spawn(cmd, [...args, JSON.stringify(jobs)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await new Promise((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  const results = [...output.matchAll(/^RESULT (.*)$/gm)].map((match) => JSON.parse(match[1] as string) as Result);
  if (results.length < jobs.length) console.error(`  client: ${results.length}/${jobs.length} results\n${output.slice(-800)}`);
  return jobs.map((_, i) => results[i]);
}

/** Milliseconds on a monotonic clock. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

/** A bench/scale-client.ts process, driven line by line. */
export interface LineProcess {
  child: ChildProcess;
  send(line: string): void;
  /** The next output line that starts with `word`, split on spaces, and when it arrived (`now()`). */
  next(word: string, timeoutMs?: number): Promise<{ words: string[]; at: number }>;
}

export function startLineProcess(runtime: Runtime, script: string, arg: string): LineProcess {
  const [cmd, args] = command(runtime, script, "client");
  const child = spawn(cmd, [...args, arg], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  const lines: { line: string; at: number }[] = [];
  let waiter: (() => void) | undefined;
  let buffer = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk;
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      lines.push({ line: buffer.slice(0, newline), at: now() });
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
    }
    waiter?.();
  });
  child.once("exit", () => waiter?.());
  return {
    child,
    send: (line) => child.stdin?.write(`${line}\n`),
    async next(word, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = lines.findIndex(({ line }) => line.startsWith(word));
        const found = index >= 0 ? lines.splice(index, 1)[0] : undefined;
        if (found) return { words: found.line.split(" "), at: found.at };
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${script}: no ${word}`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 1000);
        });
      }
    },
  };
}
