// The scale figure: N idle connections on one server process, opened by several client processes
// (bench/scale-client.ts), each from a loopback source address of its own (127.0.0.2, .3, ...)
// because one address has ~28,000 ephemeral ports and one process `fileLimit` files. Measures the
// time to open them all, RSS per connection, a broadcast to all of them, and the time until the
// server has counted every close (its close handler ran once per connection).
import { fileLimit, type LineProcess, now, type Result, startLineProcess } from "./processes.ts";

/** Connections one client process holds at most, by default. */
const defaultPerClient = Math.min(10_000, fileLimit - 100);
/** The most a server here can hold: its file limit less what it has open besides sockets. */
export const scaleLimit = fileLimit - 200;

const get = async (port: number, path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

export interface ScaleJob {
  port: number;
  connections: number;
  /** "frame" (the fast path) or "topic" (wsloop's topic selectors). */
  sub: "frame" | "topic";
  broadcasts: number;
  settleMs: number;
  perClient?: number;
}

export async function scale(job: ScaleJob): Promise<Result> {
  const count = Math.min(job.connections, scaleLimit);
  const processes = Math.ceil(count / (job.perClient ?? defaultPerClient));
  const clients: LineProcess[] = [];
  try {
    for (let i = 0; i < processes; i++) {
      const share = Math.floor(count / processes) + (i < count % processes ? 1 : 0);
      const options = {
        port: job.port,
        count: share,
        localAddress: `127.0.0.${i + 2}`,
        localPort: 10_000,
        path: `/?sub=${job.sub}`,
      };
      clients.push(startLineProcess("bun", "bench/scale-client.ts", JSON.stringify(options)));
    }
    await Promise.all(clients.map((client) => client.next("READY")));
    await sleep(job.settleMs);
    const before = Number(await get(job.port, "/rss"));
    const start = now();
    for (const client of clients) client.send("open");
    const opened = await Promise.all(clients.map((client) => client.next("OPENED")));
    const setupMs = Math.max(...opened.map((line) => line.at)) - start;
    const failed = opened.reduce((sum, line) => sum + Number(line.words[1]), 0);
    await sleep(job.settleMs);
    const after = Number(await get(job.port, "/rss"));
    const first = clients[0] as LineProcess;
    const command = job.sub === "frame" ? "broadcast" : "broadcastTopic";
    const times: number[] = [];
    for (let round = 0; round < job.broadcasts; round++) {
      for (const client of clients) client.send("arm");
      await Promise.all(clients.map((client) => client.next("ARMED")));
      const sent = now();
      first.send(`send ${command}`);
      const got = await Promise.all(clients.map((client) => client.next("GOT", 60_000)));
      times.push(Math.max(...got.map((line) => line.at)) - sent);
    }
    const closing = now();
    for (const client of clients) client.send("close");
    await Promise.all(clients.map((client) => client.next("CLOSED")));
    // Until the server's close handlers have counted every connection (the control ones too).
    let counts = { opened: 0, closed: -1 };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      counts = JSON.parse(await get(job.port, "/count")) as typeof counts;
      if (counts.closed >= counts.opened) break;
      await sleep(20);
    }
    return {
      connections: count - failed,
      failed,
      setupMs,
      rssPerConnection: (after - before) / (count - failed),
      broadcastMs: median(times),
      closeMs: now() - closing,
      unclosed: counts.opened - counts.closed,
    };
  } finally {
    for (const client of clients) client.send("exit");
  }
}
