// What the bench measures. A Measurement is one run of the load client (or of the scale clients)
// against one server; a Figure is one number it yields, with the targets wsloop's ratio must meet.
import type { Kind } from "./processes.ts";

export type Better = "higher" | "lower";

/** wsloop's value over `against`'s must be ≥ (higher is better) or ≤ (lower is better) `ratio`. */
export interface Target {
  against: Kind;
  ratio: number;
  runtimes?: string[];
}

export interface Figure {
  label: string;
  metric: string;
  unit: string;
  better: Better;
  targets: Target[];
  /** Left out of results.svg: a count that explains another figure, not a cost to compare. */
  uncharted?: true;
}

export interface Measurement {
  id: string;
  /** The load client's job (bench/client.ts), or the scale figure's (bench/lib/scale.ts). */
  job: Record<string, unknown>;
  scale?: boolean;
  /** On a server process of its own (its RSS before is the baseline), not on the shared ones. */
  fresh: boolean;
  /** Seconds of the figure each server runs first, dropped (4 when absent; shared servers only). */
  warmUp?: number;
  /** Servers it runs on; all when absent. */
  kinds?: Kind[];
  figures: Figure[];
}

export interface Settings {
  quick: boolean;
  seconds: number;
  idleConnections: number;
  scaleConnections: number;
  latencyConnections: number;
  latencySeconds: number;
}

const throughput = (label: string, metric = "messagesPerSecond", unit = "msg/s"): Figure => ({
  label,
  metric,
  unit,
  better: "higher",
  // The targets: every throughput figure ≥ 0.95× crossws and ≥ 1.0× Hono.
  targets: [
    { against: "crossws", ratio: 0.95 },
    { against: "hono", ratio: 1 },
  ],
});
/** The server's CPU time per operation of a throughput figure: steadier than the rate on a shared machine (the client asks the server for process.cpuUsage() before and after). */
const cpu = (label: string, per: string): Figure => ({
  label: `${label}: server CPU per ${per}`,
  metric: "cpuPerOperation",
  unit: "µs",
  better: "lower",
  // The CPU-time form of the throughput target: at most 1/0.95 of crossws' time.
  targets: [{ against: "crossws", ratio: 1.05 }],
});
/** Full GCs beside a CPU figure (Node only): whether the CPU moved with the heap, not the work. */
const gcs = (label: string, per: string): Figure => ({
  label: `${label}: server full GCs per 1,000 ${per}s`,
  metric: "fullGcsPer1000",
  unit: "count",
  better: "lower",
  targets: [],
  uncharted: true,
});
const lower = (label: string, metric: string, unit: string, targets: Target[] = []): Figure => ({
  label,
  metric,
  unit,
  better: "lower",
  targets,
});
const rssTargets: Target[] = [
  { against: "crossws", ratio: 1.05 },
  { against: "raw", ratio: 1.3, runtimes: ["node", "deno"] },
];
const n = (count: number) => count.toLocaleString("en-US");

export function measurements(s: Settings): Measurement[] {
  const seconds = s.seconds;
  const idle = n(s.idleConnections);
  const scale = n(s.scaleConnections);
  const latency = `${n(s.latencyConnections)} × 10 msg/s`;
  return [
    {
      id: "idle",
      job: { figure: "idle", connections: s.idleConnections, settle: s.quick ? 0.1 : 1, broadcasts: s.quick ? 2 : 5 },
      fresh: !s.quick,
      figures: [
        lower(`RSS per idle connection, ${idle} open`, "rssPerConnection", "bytes", rssTargets),
        lower(`broadcast to ${idle} (fast path)`, "broadcastMs", "ms"),
      ],
    },
    {
      id: "broadcastTopic",
      job: { figure: "broadcastTopic", connections: s.idleConnections, broadcasts: s.quick ? 2 : 5 },
      fresh: !s.quick,
      kinds: ["wsloop"],
      figures: [lower(`broadcast to ${idle} (topic selectors)`, "broadcastMs", "ms")],
    },
    {
      id: "scale",
      job: { sub: "frame", connections: s.scaleConnections },
      scale: true,
      fresh: !s.quick,
      figures: [
        lower(`scale: open ${scale} connections`, "setupMs", "ms"),
        lower(`scale: RSS per connection, ${scale} open`, "rssPerConnection", "bytes", rssTargets),
        lower(`scale: broadcast to ${scale} (fast path)`, "broadcastMs", "ms"),
        lower(`scale: close ${scale}, every close handler run`, "closeMs", "ms"),
      ],
    },
    {
      id: "scaleTopic",
      job: { sub: "topic", connections: s.scaleConnections },
      scale: true,
      fresh: !s.quick,
      kinds: ["wsloop"],
      figures: [lower(`scale: broadcast to ${scale} (topic selectors)`, "broadcastMs", "ms")],
    },
    {
      id: "pp1",
      job: { figure: "pingpong", connections: 1, seconds },
      fresh: false,
      figures: [throughput("ping-pong, 1 connection")],
    },
    {
      id: "pp50",
      job: { figure: "pingpong", connections: 50, seconds },
      fresh: false,
      figures: [
        throughput("ping-pong, 50 connections"),
        cpu("ping-pong, 50 connections", "message"),
        gcs("ping-pong, 50 connections", "message"),
      ],
    },
    {
      id: "pp200",
      job: { figure: "pingpong", connections: 200, seconds },
      fresh: false,
      figures: [throughput("ping-pong, 200 connections")],
    },
    {
      id: "pipelined",
      job: { figure: "pipelined", connections: 50, seconds },
      fresh: false,
      figures: [throughput("pipelined, 50 × 64 in flight"), cpu("pipelined", "message"), gcs("pipelined", "message")],
    },
    {
      id: "binary",
      job: { figure: "binary", connections: 8, seconds },
      fresh: false,
      figures: [
        throughput("binary 64 KiB echo, 8 connections", "megabytesPerSecond", "MB/s"),
        cpu("binary 64 KiB echo", "message"),
        gcs("binary 64 KiB echo", "message"),
      ],
    },
    {
      id: "connrate",
      job: { figure: "connrate", connections: 20, seconds },
      fresh: false,
      // Node's JIT takes seconds of connections to settle: wsloop's CPU per connection after 4 s
      // of them measured 259 µs (1.29× crossws), after 12 s 239 µs (1.16×): one run each, same hour.
      warmUp: 12,
      figures: [
        throughput("open + echo + close, 20 at a time", "connectionsPerSecond", "conn/s"),
        cpu("open + echo + close", "connection"),
        gcs("open + echo + close", "connection"),
      ],
    },
    {
      id: "latency",
      job: {
        figure: "latency",
        connections: s.latencyConnections,
        rate: 10,
        seconds: s.latencySeconds,
        warmup: s.quick ? 0.05 : 1,
      },
      fresh: false,
      figures: [
        lower(`latency p50, ${latency}`, "p50", "ms"),
        lower(`latency p99, ${latency}`, "p99", "ms"),
        lower(`latency p99.9, ${latency}`, "p999", "ms"),
      ],
    },
  ];
}
