// npm run bench:compression: what serve's `compression` (permessage-deflate) costs and saves, on
// Node and Bun (Deno has none), for JSON chat payloads echoed by wsloop (test/conformance's echo
// app): messages per second, and bytes on the wire per message each way (frames and all, read off
// the client's TCP sockets), compression on against off.
//
// usage: node --import tsx bench/compression.ts [--seconds=3] [--connections=20] [node] [bun]
// Clients offer permessage-deflate in both modes (with compression off the server declines it)
// and, like browsers, compress every message they send, however small. Bytes: `ws` clients on
// Node; messages/s: Bun's WebSocket in a process of its own. Client and server share 2 cores: compression's CPU on
// both sides shows in messages/s. Loopback only; no assertion, numbers only.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { type Runtime, startScript } from "../test/matrix/server.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const SECONDS = arg("seconds", 3);
const CONNECTIONS = arg("connections", 20);
const IN_FLIGHT = 8;
const picked = process.argv.slice(2).filter((a): a is Runtime => a === "node" || a === "bun");
const RUNTIMES: Runtime[] = picked.length > 0 ? picked : ["node", "bun"];

const USERS = ["ann", "bob", "chidi", "dagny", "eleanor", "farid", "grace", "hiro", "ines", "jonas"];
const VOCABULARY = (
  "the a to and of in is it you that for on was with he be at by this have from or one had not but what all were " +
  "when we there can an your which their said if do will each about how up out them then she many some so these " +
  "would other into has more her two like him see time could no make than first been its who now people my made " +
  "over did down only way find use may water long little very after words called just where most know meeting " +
  "thursday slides budget deploy release review lunch tomorrow coffee bug fixed merged tests green ship it thanks"
).split(" ");

/** A deterministic pseudo-random sequence, so every run sends the same messages. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
}

/** One chat message as a server would broadcast it (~200 bytes): no two alike. */
function chatMessage(i: number, next: () => number): Record<string, unknown> {
  const user = USERS[Math.floor(next() * USERS.length)] as string;
  const text = Array.from({ length: 4 + Math.floor(next() * 14) }, () => VOCABULARY[Math.floor(next() * VOCABULARY.length)]).join(
    " ",
  );
  return {
    type: "message",
    room: "lobby",
    id: `m-${(1_000_000 + i).toString(36)}-${Math.floor(next() * 1e6).toString(36)}`,
    user: { name: user, avatar: `https://example.com/avatars/${user}.png` },
    text,
    at: 1_700_000_000_000 + i * 1337 + Math.floor(next() * 1000),
  };
}

const next = random(13);
const MESSAGES = Array.from({ length: 2048 }, (_, i) => chatMessage(i, next));
const PAYLOADS: Record<string, string[]> = {
  // One chat message per frame: most of a chat's traffic.
  "chat message": MESSAGES.map((message) => JSON.stringify(message)),
  // The last 50 messages, as sent to a member who joins.
  "history (50)": Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({ type: "history", messages: MESSAGES.slice(i * 50, i * 50 + 50) }),
  ),
};

interface Wire {
  /** Bytes per message on the wire, client to server and back, frame headers included. */
  up: number;
  down: number;
  /** The payload's own size. */
  payload: number;
  negotiated: boolean;
}

type Counted = WebSocket & { _socket: { bytesRead: number; bytesWritten: number } };

/** Bytes on the wire: `ws` clients (on Node, whose sockets count bytes), one message at a time each. */
async function wire(url: string, payloads: string[]): Promise<Wire> {
  const open = () =>
    new Promise<Counted>((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: { threshold: 0 } }) as Counted;
      socket.once("open", () => resolve(socket));
      socket.once("error", reject);
    });
  const sockets = await Promise.all(Array.from({ length: 4 }, open));
  const perSocket = 250;
  let payloadBytes = 0;
  const counts = await Promise.all(
    sockets.map(async (socket, index) => {
      const read = socket._socket.bytesRead;
      const written = socket._socket.bytesWritten;
      for (let i = 0; i < perSocket; i++) {
        const payload = payloads[(index * perSocket + i) % payloads.length] as string;
        payloadBytes += payload.length;
        const echoed = new Promise((resolve) => socket.once("message", resolve));
        socket.send(payload);
        await echoed;
      }
      return [socket._socket.bytesRead - read, socket._socket.bytesWritten - written] as const;
    }),
  );
  const messages = sockets.length * perSocket;
  const negotiated = sockets[0]?.extensions.includes("permessage-deflate") ?? false;
  for (const socket of sockets) socket.close();
  return {
    up: Math.round(counts.reduce((n, [, written]) => n + written, 0) / messages),
    down: Math.round(counts.reduce((n, [read]) => n + read, 0) / messages),
    payload: Math.round(payloadBytes / messages),
    negotiated,
  };
}

interface ClientJob {
  url: string;
  payload: string;
  seconds: number;
  connections: number;
}

/**
 * Messages per second, measured by a client on Bun (its WebSocket negotiates permessage-deflate
 * and compresses natively: a `ws` client's own zlib queue would be what is measured): CONNECTIONS
 * sockets with IN_FLIGHT echoes outstanding each.
 */
async function runClient(job: ClientJob): Promise<void> {
  const payloads = PAYLOADS[job.payload] as string[];
  const sockets = await Promise.all(
    Array.from(
      { length: job.connections },
      () =>
        new Promise<globalThis.WebSocket>((resolve, reject) => {
          const socket = new globalThis.WebSocket(job.url);
          socket.onopen = () => resolve(socket);
          socket.onerror = () => reject(new Error(`could not connect to ${job.url}`));
        }),
    ),
  );
  const negotiated = sockets[0]?.extensions.includes("permessage-deflate") ?? false;
  let received = 0;
  const start = performance.now();
  const deadline = start + job.seconds * 1000;
  await Promise.all(
    sockets.map(
      (socket, index) =>
        new Promise<void>((resolve) => {
          let next = index * 97;
          let outstanding = IN_FLIGHT;
          const sendOne = () => socket.send(payloads[next++ % payloads.length] as string);
          socket.onmessage = () => {
            received++;
            if (performance.now() < deadline) sendOne();
            else if (--outstanding === 0) resolve();
          };
          for (let i = 0; i < IN_FLIGHT; i++) sendOne();
        }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const socket of sockets) socket.close();
  console.log(`RESULT ${JSON.stringify({ messagesPerSecond: Math.round(received / seconds), negotiated })}`);
}

async function rate(url: string, payload: string): Promise<{ messagesPerSecond: number; negotiated: boolean }> {
  const job: ClientJob = { url, payload, seconds: SECONDS, connections: CONNECTIONS };
  const child = spawn(`${root}node_modules/.bin/bun`, ["run", `${root}bench/compression.ts`, "--client", JSON.stringify(job)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  const match = /RESULT (.*)/.exec(output);
  if (code !== 0 || !match) throw new Error(`bench client failed (exit ${code}): ${output}`);
  return JSON.parse(match[1] as string) as { messagesPerSecond: number; negotiated: boolean };
}

async function orchestrate(): Promise<void> {
  const rows: string[] = [];
  for (const runtime of RUNTIMES) {
    for (const compression of [false, true]) {
      const server = await startScript(
        runtime,
        `test/conformance/echo-${runtime}.ts`,
        /READY (\d+)/,
        compression ? { WSLOOP_COMPRESSION: "1" } : {},
      );
      try {
        for (const name of Object.keys(PAYLOADS)) {
          const bytes = await wire(`${server.ws}/`, PAYLOADS[name] as string[]);
          const speed = await rate(`${server.ws}/`, name);
          const mode = `${compression ? "on" : "off"}${bytes.negotiated === compression && speed.negotiated === compression ? "" : " (negotiation differs!)"}`;
          rows.push(
            `| ${runtime} | ${name} | ${mode} | ${bytes.payload} | ${bytes.up} | ${bytes.down} | ${speed.messagesPerSecond} |`,
          );
          console.error(
            `${runtime} ${name} compression ${compression ? "on" : "off"}: ${JSON.stringify({ ...bytes, ...speed })}`,
          );
        }
      } finally {
        await server.kill();
      }
    }
  }
  console.log(
    `\nBytes per message on the wire (ws clients on Node); messages/s: ${CONNECTIONS} Bun clients, ${IN_FLIGHT} echoes in flight each, ${SECONDS} s per row`,
  );
  console.log("| runtime | payload | compression | payload bytes | up (client→server) | down (server→client) | messages/s |");
  console.log("| --- | --- | --- | ---: | ---: | ---: | ---: |");
  for (const row of rows) console.log(row);
}

const clientAt = process.argv.indexOf("--client");
if (clientAt >= 0) await runClient(JSON.parse(process.argv[clientAt + 1] ?? "{}") as ClientJob);
else await orchestrate();
