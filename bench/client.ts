// The load client: one figure against one server, printed as `RESULT {json}`. Runs on Bun by
// default (see bench/README.md for why); node and deno work too. Only ever connects to 127.0.0.1.
// Usage: bun bench/client.ts '{"port":1234,"figure":"pingpong","connections":50,"seconds":3}'
export {};

type Figure = "pingpong" | "pipelined" | "binary" | "connrate" | "idle" | "broadcastTopic";
interface Job {
  port: number;
  figure: Figure;
  connections: number;
  seconds: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as Job;
const base = `ws://127.0.0.1:${job.port}/`;
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

/** Each socket keeps `inFlight` messages outstanding until the time is up; answers per second. */
async function echoLoad(connections: number, inFlight: number, payload: string | Uint8Array, seconds: number) {
  const sockets = await openMany(connections);
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
  closeAll(sockets);
  return { messagesPerSecond: received / elapsed, megabytesPerSecond: bytes / elapsed / 1e6 };
}

/** `connections` workers each open a socket, get one echo, close, and again. */
async function connectionRate(workers: number, seconds: number) {
  let done = 0;
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
  return { connectionsPerSecond: done / ((performance.now() - start) / 1000) };
}

const rss = async () => Number(await (await fetch(`http://127.0.0.1:${job.port}/rss`)).text());
const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));

/** Time from asking for a broadcast until the last of `subscribers` has it (median of 5). */
async function broadcast(subscribers: WebSocket[], command: string): Promise<number> {
  const control = await open();
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
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
  return times[2] as number;
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

const figures: Record<Figure, () => Promise<Record<string, number>>> = {
  pingpong: () => echoLoad(job.connections, 1, text32, job.seconds),
  pipelined: () => echoLoad(job.connections, 64, text32, job.seconds),
  binary: () => echoLoad(job.connections, 4, binary64k, job.seconds),
  connrate: () => connectionRate(job.connections, job.seconds),
  idle: () => idle(job.connections),
  broadcastTopic: () => broadcastTopic(job.connections),
};

const result = await figures[job.figure]();
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
