// The load client: figures against one server, each printed as `RESULT {json}`. Runs on Bun by
// default (see bench/README.md for why); node and deno work too. Only ever connects to 127.0.0.1.
// Usage: bun bench/client.ts '{"port":1234,"figure":"pingpong","connections":50,"seconds":3}'
//        (or a JSON array of such jobs, run one after the other: bench:quick's batches)
export {};

type Figure = "pingpong" | "pipelined" | "binary" | "connrate" | "idle" | "broadcastTopic" | "latency";
interface Job {
  port: number;
  figure: Figure;
  connections: number;
  seconds: number;
  /** Seconds to wait for the server's RSS to settle (idle). Default 1. */
  settle?: number;
  /** Messages per second per connection (latency). Default 10. */
  rate?: number;
  /** Broadcasts to time (idle, broadcastTopic); the median counts. Default 5. */
  broadcasts?: number;
  /** Seconds measured but dropped at the start (latency). Default 1. */
  warmup?: number;
}

const parsed = JSON.parse(process.argv[2] ?? "{}") as Job | Job[];
const jobs = Array.isArray(parsed) ? parsed : [parsed];
let job = jobs[0] as Job;
let base = `ws://127.0.0.1:${job.port}/`;
const WS: typeof WebSocket = globalThis.WebSocket ?? ((await import("ws")).WebSocket as unknown as typeof WebSocket);
const text32 = "x".repeat(32);
const binary64k = new Uint8Array(64 * 1024).fill(7);

function open(path = ""): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WS(base + path);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error(`could not connect to ${base}${path}`));
  });
}

async function openMany(count: number, path = "", batch = 250): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += batch) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => open(path)))));
  }
  return sockets;
}

const closeAll = (sockets: WebSocket[]) => {
  for (const socket of sockets) socket.close();
};

/**
 * The server's CPU time so far (all its threads), in µs, and its full GCs so far (Node only).
 * Unlike a rate, CPU time per message hardly moves when other programs share the machine: the
 * steadiest measure of a server's cost. The GC count tells whether it moved with the heap.
 */
async function usage(): Promise<{ cpu: number; fullGcs: number | undefined }> {
  const [cpu, gcs] = (await (await fetch(`http://127.0.0.1:${job.port}/cpu`)).text()).split(" ");
  return { cpu: Number(cpu), fullGcs: gcs === undefined || gcs === "-" ? undefined : Number(gcs) };
}

/** CPU µs per operation between two `usage()` readings, and full GCs per 1,000 operations where known. */
async function costs(before: Awaited<ReturnType<typeof usage>>, operations: number): Promise<Record<string, number>> {
  const after = await usage();
  const spent: Record<string, number> = { cpuPerOperation: (after.cpu - before.cpu) / operations };
  if (after.fullGcs !== undefined && before.fullGcs !== undefined)
    spent.fullGcsPer1000 = ((after.fullGcs - before.fullGcs) * 1000) / operations;
  return spent;
}

/** Each socket keeps `inFlight` messages outstanding until the time is up; answers per second. */
async function echoLoad(connections: number, inFlight: number, payload: string | Uint8Array, seconds: number) {
  const sockets = await openMany(connections);
  const before = await usage();
  let received = 0;
  let bytes = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          let outstanding = inFlight;
          socket.onmessage = (event) => {
            received++;
            bytes += typeof event.data === "string" ? event.data.length : (event.data as ArrayBuffer).byteLength;
            if (performance.now() < deadline) socket.send(payload);
            else if (--outstanding === 0) resolve();
          };
          for (let i = 0; i < inFlight; i++) socket.send(payload);
        }),
    ),
  );
  const elapsed = (performance.now() - start) / 1000;
  const spent = await costs(before, received);
  closeAll(sockets);
  return { messagesPerSecond: received / elapsed, megabytesPerSecond: bytes / elapsed / 1e6, ...spent };
}

/** `connections` workers each open a socket, get one echo, close, and again. */
async function connectionRate(workers: number, seconds: number) {
  let done = 0;
  const before = await usage();
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        const socket = await open();
        await new Promise<void>((resolve) => {
          socket.onmessage = () => socket.close();
          socket.onclose = () => resolve();
          socket.send("hi");
        });
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { connectionsPerSecond: done / elapsed, ...(await costs(before, done)) };
}

const rss = async () => Number(await (await fetch(`http://127.0.0.1:${job.port}/rss`)).text());
const settle = () => new Promise((resolve) => setTimeout(resolve, (job.settle ?? 1) * 1000));

/** Time from asking for a broadcast until the last of `subscribers` has it (median of `broadcasts`). */
async function broadcast(subscribers: WebSocket[], command: string): Promise<number> {
  const control = await open();
  const times: number[] = [];
  for (let round = 0; round < (job.broadcasts ?? 5); round++) {
    let left = subscribers.length;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      for (const socket of subscribers) {
        socket.onmessage = () => {
          if (--left === 0) resolve();
        };
      }
      control.send(command);
    });
    times.push(performance.now() - start);
  }
  control.close();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** RSS per idle connection with `connections` open, then a broadcast to all of them. */
async function idle(connections: number) {
  await settle();
  const before = await rss();
  const sockets = await openMany(connections, "?sub=frame");
  await settle();
  const after = await rss();
  const broadcastMs = await broadcast(sockets, "broadcast");
  closeAll(sockets);
  return { rssPerConnection: (after - before) / connections, broadcastMs };
}

async function broadcastTopic(connections: number) {
  const sockets = await openMany(connections, "?sub=topic");
  const broadcastMs = await broadcast(sockets, "broadcastTopic");
  closeAll(sockets);
  return { broadcastMs };
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

/**
 * Round-trip times at a fixed offered rate: `connections` × `rate` messages per second, spread
 * evenly in time over the connections. Each time is taken from when the message was due, not when
 * it went out, so a client or server that falls behind shows in the figure (no coordinated omission).
 */
async function latency(connections: number, rate: number, seconds: number, warmup: number) {
  const sockets = await openMany(connections);
  const due: number[][] = sockets.map(() => []);
  const times = new Float64Array(Math.ceil(connections * rate * (seconds + warmup) * 1.1) + 16);
  let count = 0;
  let late = 0;
  const interval = 1000 / (connections * rate);
  const start = performance.now() + 50;
  const measureFrom = start + warmup * 1000;
  const end = measureFrom + seconds * 1000;
  let answered = 0;
  let sent = 0;
  sockets.forEach((socket, i) => {
    const queue = due[i] as number[];
    socket.onmessage = () => {
      const dueAt = queue.shift() as number;
      answered++;
      if (dueAt >= measureFrom && count < times.length) times[count++] = performance.now() - dueAt;
    };
  });
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (let at = start + sent * interval; at <= now && at < end; at = start + sent * interval) {
        const i = sent % connections;
        (due[i] as number[]).push(at);
        (sockets[i] as WebSocket).send(text32);
        sent++;
        if (now - at > 100) late++;
      }
      if (now >= end) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  // The answers still in flight, for at most 2 s.
  const waitUntil = performance.now() + 2000;
  while (answered < sent && performance.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 5));
  closeAll(sockets);
  const sorted = times.subarray(0, count).sort();
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    samples: count,
    lost: sent - answered,
    /** Messages sent more than 100 ms after they were due: the client could not keep the rate. */
    late,
  };
}

const figures: Record<Figure, () => Promise<Record<string, number>>> = {
  pingpong: () => echoLoad(job.connections, 1, text32, job.seconds),
  pipelined: () => echoLoad(job.connections, 64, text32, job.seconds),
  binary: () => echoLoad(job.connections, 4, binary64k, job.seconds),
  connrate: () => connectionRate(job.connections, job.seconds),
  idle: () => idle(job.connections),
  broadcastTopic: () => broadcastTopic(job.connections),
  latency: () => latency(job.connections, job.rate ?? 10, job.seconds, job.warmup ?? 1),
};

for (const next of jobs) {
  job = next;
  base = `ws://127.0.0.1:${job.port}/`;
  const result = await figures[job.figure]();
  console.log(`RESULT ${JSON.stringify(result)}`);
}
process.exit(0);
