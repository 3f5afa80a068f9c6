// GET /metrics: the server's stats() in Prometheus' text format (version 0.0.4), for a scraper.
import type { ServerStats } from "../../src/index.ts";

/** One sample line per value: counters end in _total, byte counts in _bytes. */
export function prometheus(stats: ServerStats): string {
  const lines: string[] = [];
  const metric = (name: string, type: "counter" | "gauge", help: string, samples: [string, number][]) => {
    lines.push(`# HELP wsloop_${name} ${help}`, `# TYPE wsloop_${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`wsloop_${name}${labels} ${value}`);
  };
  const byLabel = (label: string, counts: Readonly<Record<number, number>>): [string, number][] =>
    Object.entries(counts).map(([key, count]) => [`{${label}="${key}"}`, count]);
  metric("connections", "gauge", "Connections whose loop is running.", [["", stats.connections]]);
  metric("connections_peak", "gauge", "Most connections open at once.", [["", stats.peakConnections]]);
  metric("connections_paused", "gauge", "Connections whose socket is not being read (flow control).", [
    ["", stats.pausedConnections],
  ]);
  metric("upgrades_accepted_total", "counter", "Upgrades accepted.", [["", stats.upgrades.accepted]]);
  metric(
    "upgrades_refused_total",
    "counter",
    "Upgrade requests refused, by HTTP status.",
    byLabel("status", stats.upgrades.refused),
  );
  metric("messages_received_total", "counter", "Frames from clients.", [["", stats.messagesIn]]);
  metric("received_bytes_total", "counter", "Their bytes (text in UTF-16 units).", [["", stats.bytesIn]]);
  metric("messages_sent_total", "counter", "Frames sent.", [["", stats.messagesOut]]);
  metric("sent_bytes_total", "counter", "Their bytes (text in UTF-16 units).", [["", stats.bytesOut]]);
  metric("queued_bytes", "gauge", "Bytes waiting for handlers.", [["", stats.queuedBytes]]);
  metric("queued_bytes_peak", "gauge", "Most bytes one connection had waiting.", [["", stats.peakQueuedBytes]]);
  metric("pauses_total", "counter", "Times reading a socket was paused.", [["", stats.pauses]]);
  metric("backpressure_total", "counter", "Sends refused with backpressure.", [["", stats.backpressure]]);
  metric("slow_consumers_total", "counter", "Connections closed for not reading.", [["", stats.slowConsumers]]);
  metric("queue_overflows_total", "counter", "Connections closed past maxQueuedBytes.", [["", stats.queueOverflows]]);
  metric("rate_limited_total", "counter", "Frames over a rate limit.", [["", stats.rateLimited]]);
  metric("closes_total", "counter", "Closes by code.", byLabel("code", stats.closes));
  const { handlerTime } = stats;
  lines.push(
    "# HELP wsloop_handler_seconds onMessage time, on a sample: every message while they are rare, about one a millisecond under load.",
    "# TYPE wsloop_handler_seconds histogram",
    ...handlerTime.buckets.map(
      ({ le, count }) => `wsloop_handler_seconds_bucket{le="${le === Infinity ? "+Inf" : le / 1000}"} ${count}`,
    ),
    `wsloop_handler_seconds_sum ${handlerTime.sum / 1000}`,
    `wsloop_handler_seconds_count ${handlerTime.count}`,
  );
  return `${lines.join("\n")}\n`;
}
