// What server stats and telemetry cost per message, in CPU time (the machine is shared and loaded:
// wall-clock throughput drifts by more than the few nanoseconds measured here).
//
// 1. In process, the same build A/B: a loop without stats (as wsloop/testing runs it), with the
//    server's Stats (what serve() always has: counters, 1 handler call in 32 timed), and with
//    telemetry on through @opentelemetry/api without an SDK (every call timed and traced, no-op).
// 2. With --servers: a Node echo server per build (this one's dist/, and --base=DIR, a dist/ built
//    from another commit), driven over loopback; each reports the CPU time its process spent per
//    echoed message. Build first: npm run build.
//
// Usage: npm run bench:observe -- [--servers | --servers-only] [--base=/tmp/old-dist] [--rounds=7]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { loadTelemetry } from "../src/adapters/telemetry.ts";
import type { Transport } from "../src/core/connection.ts";
import { Session } from "../src/core/session.ts";
import { Stats } from "../src/core/stats.ts";
import { takeUpgrade } from "../src/core/upgrade.ts";
import { upgradeWebSocket } from "../src/index.ts";
import { upgradeRequest } from "../src/testing.ts";
import { type asyncEcho, ECHO_HANDLERS, type echo } from "./lib/echo.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const ROUNDS = Number(arg("rounds") ?? 7);
const VARIANTS = (arg("variants") ?? "none,stats,telemetry").split(",") as Variant[];
const N = 1_000_000;

type Variant = "none" | "stats" | "telemetry";

async function session(variant: Variant, onMessage: typeof echo | typeof asyncEcho) {
  const request = upgradeRequest();
  const pending = takeUpgrade(
    request,
    upgradeWebSocket(request, { dependencies: null, idleTimeout: 0, onInit: (): [null] => [null], onMessage, onClose: () => {} }),
  );
  if (!pending) throw new Error("no upgrade");
  const stats = variant === "none" ? undefined : new Stats();
  if (stats && variant === "telemetry") await loadTelemetry(stats, () => stats.snapshot([], 0, 0));
  // As the adapters' transports do: each frame sent is counted.
  const send = stats
    ? (data: string | Uint8Array) => {
        stats.sent(data);
        return true;
      }
    : () => true;
  const transport: Transport = { send, close: () => {}, terminate: () => {}, bufferedAmount: 0, stats };
  const loop = new Session(pending, transport);
  loop.start();
  await loop.whenIdle();
  return { loop, stats };
}

/** CPU nanoseconds per message for `rounds` rounds of N messages. */
async function cpuPerMessage(variant: Variant, onMessage: typeof echo | typeof asyncEcho): Promise<number> {
  const { loop, stats } = await session(variant, onMessage);
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    // What the adapter's message hook adds with stats: one count per frame.
    stats?.received("hello");
    loop.text("hello");
    if ((i & 1023) === 1023) await loop.whenIdle();
  }
  await loop.whenIdle();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / N;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const inProcess = !process.argv.includes("--servers-only");
if (inProcess)
  console.log(`In process, CPU ns per message (median of ${ROUNDS} rounds × ${N.toLocaleString("en")}, variants interleaved):`);
for (const [label, handler] of inProcess ? ECHO_HANDLERS : []) {
  const results: Record<Variant, number[]> = { none: [], stats: [], telemetry: [] };
  for (let round = 0; round < ROUNDS; round++)
    for (const variant of VARIANTS) results[variant].push(await cpuPerMessage(variant, handler));
  const none = median(results.none);
  const labels: Record<Variant, string> = { none: "no stats", stats: "stats", telemetry: "telemetry on (no SDK)" };
  const shown = VARIANTS.map((variant) => {
    const value = median(results[variant]);
    return `${labels[variant]} ${value.toFixed(1)} ns${variant === "none" ? "" : ` (${((value / none - 1) * 100).toFixed(1)} %)`}`;
  });
  console.log(`  ${label}: ${shown.join(", ")}`);
}

if (process.argv.includes("--servers") || !inProcess) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const builds: [string, string][] = [["this build", `${root}dist`]];
  const base = arg("base");
  if (base) builds.unshift(["--base", base]);
  console.log("\nNode echo server over loopback, server CPU µs per echoed message (20 connections × 32 in flight):");
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++)
    for (const [label, dist] of builds) {
      const list = results.get(label) ?? [];
      list.push(await serverCpuPerMessage(dist));
      results.set(label, list);
    }
  const first = median(results.get(builds[0]?.[0] ?? "") ?? []);
  for (const [label] of builds) {
    const value = median(results.get(label) ?? []);
    console.log(`  ${label}: ${value.toFixed(2)} µs (${((value / first - 1) * 100).toFixed(1)} % vs ${builds[0]?.[0]})`);
  }
}

/** Starts bench/servers/cpu-echo.mjs on `dist`, echoes 100,000 messages, returns its CPU µs per message. */
async function serverCpuPerMessage(dist: string): Promise<number> {
  const child = spawn(process.execPath, [fileURLToPath(new URL("servers/cpu-echo.mjs", import.meta.url)), dist], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk;
      const match = /READY (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
  });
  const cpu = async () => Number(await (await fetch(`http://127.0.0.1:${port}/cpu`)).text());
  const sockets = await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        new Promise<WebSocket>((resolve) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
          socket.once("open", () => resolve(socket));
        }),
    ),
  );
  const PER = 5_000;
  const run = async () =>
    Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            let sent = 0;
            let got = 0;
            const onMessage = () => {
              got++;
              if (sent < PER) {
                socket.send("hello");
                sent++;
              }
              if (got === PER) {
                socket.off("message", onMessage);
                resolve();
              }
            };
            socket.on("message", onMessage);
            for (; sent < 32; sent++) socket.send("hello");
          }),
      ),
    );
  await run(); // warm-up
  const before = await cpu();
  await run();
  const used = (await cpu()) - before;
  for (const socket of sockets) socket.terminate();
  child.kill("SIGKILL");
  return used / (20 * PER);
}
