// Starts the fixture app on a runtime as a child process and reads its port from stdout.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export type Runtime = "node" | "bun" | "deno";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

const commands: Record<Runtime, [string, string[]]> = {
  node: [process.execPath, ["--import", "tsx", "test/fixture/node.ts"]],
  bun: [bin("bun"), ["run", "test/fixture/bun.ts"]],
  deno: [bin("deno"), ["run", "-A", "test/fixture/deno.ts"]],
};

export interface FixtureServer {
  readonly runtime: Runtime;
  readonly http: string;
  readonly ws: string;
  /** Everything the process printed, stdout and stderr. */
  output(): string;
  /** Resolves with the process's exit code. */
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
}

export async function startServer(runtime: Runtime): Promise<FixtureServer> {
  const [command, args] = commands[runtime];
  const child: ChildProcess = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} fixture did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} fixture exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    runtime,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    output: () => output,
    exited,
    async kill() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
