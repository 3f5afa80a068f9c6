// Starts a server script on a runtime as a child process and reads its port from stdout.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export type Runtime = "node" | "bun" | "deno";
/** The runtimes the matrix runs on: the three, and workerd (Cloudflare Workers, through miniflare). */
export type MatrixRuntime = Runtime | "cloudflare";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

/** How a script runs: on a runtime, or as a `deno serve` module (`export default { fetch }`). */
export type Launcher = MatrixRuntime | "deno serve";

const commands: Record<Launcher, (script: string) => [string, string[]]> = {
  // gc exposed, for the fixture's /heap route (Bun has Bun.gc).
  node: (script) => [process.execPath, ["--expose-gc", "--import", "tsx", script]],
  bun: (script) => [bin("bun"), ["run", script]],
  deno: (script) => [bin("deno"), ["run", "-A", "--v8-flags=--expose-gc", script]],
  "deno serve": (script) => [bin("deno"), ["serve", "-A", "--port", "0", "--host", "127.0.0.1", script]],
  // workerd through miniflare, started by a Node script (test/fixture/cloudflare.ts, examples/cloudflare/server.ts).
  cloudflare: (script) => [process.execPath, ["--import", "tsx", script]],
};

export interface FixtureServer {
  readonly runtime: Launcher;
  readonly http: string;
  readonly ws: string;
  /** Everything the process printed, stdout and stderr. */
  output(): string;
  /** Resolves with the process's exit code. */
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
  /** Sends `signal` to the process (it keeps running until it exits by itself). */
  signal(signal: NodeJS.Signals): void;
}

/** The matrix fixture (test/fixture/RUNTIME.ts), which prints `READY port`. */
export function startServer(runtime: MatrixRuntime): Promise<FixtureServer> {
  return startScript(runtime, `test/fixture/${runtime}.ts`, /READY (\d+)/);
}

/** Runs `script` on `runtime` with PORT=0; `ready` matches its output and captures the port. */
export async function startScript(
  runtime: Launcher,
  script: string,
  ready: RegExp,
  extraEnv: Record<string, string> = {},
): Promise<FixtureServer> {
  const [command, args] = commands[runtime](script);
  const env = { ...process.env, NO_COLOR: "1", PORT: "0", ...extraEnv };
  // A process group of its own: kill() ends the runtime's children too (miniflare's workerd).
  const child: ChildProcess = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env, detached: true });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} ${script} did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on("data", onData);
    // Some servers announce themselves on stderr (deno serve).
    child.stderr?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} ${script} exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    runtime,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    output: () => output,
    exited,
    signal(signal) {
      child.kill(signal);
    },
    async kill() {
      if (child.exitCode === null) killGroup(child);
      await exited;
    },
  };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-(child.pid as number), "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}
