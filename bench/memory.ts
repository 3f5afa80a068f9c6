// Memory per idle connection, deterministically: the JS heap after a full GC (and RSS) of one
// server with N connections open and idle (?sub=frame, like the bench's idle figure), minus before.
// Optionally writes heap snapshots before and after (for bench/heap-diff.ts). Run with Bun:
//   node_modules/.bin/bun bench/memory.ts --runtime=node --kind=wsloop --connections=5000 [--snapshots=/tmp/x]
import { spawn } from "node:child_process";
import { command, type Runtime, root } from "./lib/processes.ts";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
const runtime = arg("runtime", "node");
const kind = arg("kind", "wsloop");
const connections = Number(arg("connections", "5000"));
const snapshots = arg("snapshots", "");
const script = `bench/servers/${kind === "raw" ? `raw-${runtime}` : kind}.ts`;
// Node runs the same bundle as in the bench (no tsx); GC exposed for the heap figures.
const gcFlags: Record<string, string[]> = { node: ["--expose-gc"], bun: [], deno: ["--v8-flags=--expose-gc"] };
const [cmd, args] = command(runtime as Runtime, script, "any", gcFlags[runtime]);

const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
const port = await new Promise<number>((resolve, reject) => {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk;
    const match = /READY (\d+)/.exec(output);
    if (match) resolve(Number(match[1]));
  });
  child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
});
const base = `127.0.0.1:${port}`;
const get = async (path: string) => (await fetch(`http://${base}${path}`)).text();
type Memory = { rss: number; heapUsed: number; heapTotal: number; external: number };
const heap = async () => JSON.parse(await get("/heap")) as Memory;
const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${base}/?sub=frame`);
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error("could not connect"));
  });
}

// A few connections first, so what is made once (adapters, topics, code) is not counted per connection.
const warm = await Promise.all(Array.from({ length: 20 }, open));
await settle();
const before = await heap();
if (snapshots) await get(`/snapshot?file=${snapshots}-before.heapsnapshot`);
const sockets: WebSocket[] = [];
for (let i = 0; i < connections; i += 250)
  sockets.push(...(await Promise.all(Array.from({ length: Math.min(250, connections - i) }, open))));
await settle();
const after = await heap();
if (snapshots) await get(`/snapshot?file=${snapshots}-after.heapsnapshot`);
const per = (key: keyof Memory) => Math.round((after[key] - before[key]) / connections);
const result = {
  runtime,
  kind,
  connections,
  heapPerConnection: per("heapUsed"),
  heapTotalPerConnection: per("heapTotal"),
  externalPerConnection: per("external"),
  rssPerConnection: per("rss"),
};
console.log(`RESULT ${JSON.stringify(result)}`);
for (const socket of [...warm, ...sockets]) socket.close();
child.kill("SIGKILL");
process.exit(0);
