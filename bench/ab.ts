// One server kind from two (or more) source trees, measured in pairs: the connection figure
// (open + echo + close, 20 at a time; or --figure=binary, the 64 KiB echo) on each tree's server in turn, the order rotating each round,
// printing the server's CPU time per connection round by round. For a change whose effect is a few
// percent on a machine that drifts by tens: compare the rounds pairwise, not the medians.
//   git worktree add /tmp/base main   (or: git archive main | tar -x -C /tmp/base; link node_modules)
//   node --import tsx bench/ab.ts --runtime=node --kind=wsloop --rounds=5 /tmp/base .
import { resolve } from "node:path";
import type { Kind, Result, Runtime, Server } from "./lib/processes.ts";

type Processes = typeof import("./lib/processes.ts");

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
const runtime = arg("runtime", "node") as Runtime;
const kind = arg("kind", "wsloop");
const rounds = Number(arg("rounds", "5"));
// connrate (server CPU per connection) or binary (64 KiB echo, server CPU per message).
const figure = arg("figure", "connrate") as "connrate" | "binary";
const trees = process.argv
  .slice(2)
  .filter((a) => !a.startsWith("--"))
  .map((tree) => resolve(tree));
if (trees.length < 2) throw new Error("usage: bench/ab.ts [--runtime= --kind= --rounds=] TREE TREE...");

// Each tree's own harness, so each server runs (and Node's is bundled from) that tree's sources.
const libs: Processes[] = await Promise.all(trees.map((tree) => import(`${tree}/bench/lib/processes.ts`)));
const servers: Server[] = [];
for (const lib of libs) servers.push(await lib.startServer(runtime, kind as Kind));
const cpu: number[][] = trees.map(() => []);
const rate: number[][] = trees.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < trees.length; i++) {
    const j = (i + round) % trees.length;
    const lib = libs[j] as Processes;
    const server = servers[j] as Server;
    const [result]: (Result | undefined)[] = await lib.runClient(
      [{ figure, connections: figure === "binary" ? 8 : 20, seconds: 2, port: server.port }],
      60_000,
    );
    cpu[j]?.push(result?.cpuPerOperation ?? Number.NaN);
    rate[j]?.push((figure === "binary" ? result?.megabytesPerSecond : result?.connectionsPerSecond) ?? Number.NaN);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
trees.forEach((tree, i) => {
  const rounds = (cpu[i] ?? []).map((v) => v.toFixed(0)).join(" ");
  console.log(
    `${runtime} ${kind} ${tree}: server CPU per ${figure === "binary" ? "message" : "connection"} ${median(cpu[i] ?? []).toFixed(1)} µs (rounds: ${rounds}), ${Math.round(median(rate[i] ?? []))} ${figure === "binary" ? "MB/s" : "conn/s"}`,
  );
});
await Promise.all(libs.map((lib, i) => lib.stop((servers[i] as Server).child)));
