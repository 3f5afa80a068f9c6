// npm run bench:compression: what serve's `compression` (permessage-deflate) costs and saves, on
// Node and Bun (Deno has none), for JSON chat payloads echoed by wsloop (test/conformance's echo
// app): messages per second, and bytes on the wire per message each way (frames and all, read off
// the client's TCP sockets), compression on against off.
//
// usage: node --import tsx bench/compression.ts [--seconds=3] [--connections=20] [node] [bun]
// The client is `ws` on Node, offering permessage-deflate in both modes (with compression off the
// server declines it) and, like browsers, compressing every message it sends, however small. Client and server share 2 cores: compression's CPU on
// both sides shows in messages/s. Loopback only; no assertion, numbers only.
import WebSocket from "ws";
import { type FixtureServer, type Runtime, startScript } from "../test/matrix/server.ts";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const SECONDS = arg("seconds", 3);
const CONNECTIONS = arg("connections", 20);
const IN_FLIGHT = 8;
const picked = process.argv.slice(2).filter((a): a is Runtime => a === "node" || a === "bun");
const RUNTIMES: Runtime[] = picked.length > 0 ? picked : ["node", "bun"];

const USERS = ["ann", "bob", "chidi", "dagny", "eleanor", "farid", "grace"];
const WORDS = "the meeting moved to thursday at three so bring the slides and the budget numbers please".split(" ");

/** One chat message as a server would broadcast it (~230 bytes), varied by `i`. */
function chatMessage(i: number): Record<string, unknown> {
  const text = Array.from({ length: 6 + (i % 9) }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]).join(" ");
  return {
    type: "message",
    room: "lobby",
    id: `m-${(1_000_000 + i).toString(36)}`,
    user: { name: USERS[i % USERS.length], avatar: `https://example.com/avatars/${USERS[i % USERS.length]}.png` },
    text,
    at: 1_700_000_000_000 + i * 1337,
  };
}

const PAYLOADS: Record<string, string[]> = {
  // A single chat message per frame: most of a chat's traffic.
  "chat message": Array.from({ length: 64 }, (_, i) => JSON.stringify(chatMessage(i))),
  // The last 50 messages, as sent to a member who joins.
  "history (50)": Array.from({ length: 8 }, (_, i) =>
    JSON.stringify({ type: "history", messages: Array.from({ length: 50 }, (_, k) => chatMessage(i * 50 + k)) }),
  ),
};

interface Figure {
  messagesPerSecond: number;
  /** Bytes per message on the wire, client to server and back. */
  up: number;
  down: number;
  /** The payload's own size. */
  payload: number;
  negotiated: boolean;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

type Counted = WebSocket & { _socket: { bytesRead: number; bytesWritten: number } };

async function measure(server: FixtureServer, payloads: string[]): Promise<Figure> {
  const sockets = (await Promise.all(Array.from({ length: CONNECTIONS }, () => open(`${server.ws}/`)))) as Counted[];
  const negotiated = sockets[0]?.extensions.includes("permessage-deflate") ?? false;
  const startRead = sockets.reduce((n, s) => n + s._socket.bytesRead, 0);
  const startWritten = sockets.reduce((n, s) => n + s._socket.bytesWritten, 0);
  let received = 0;
  let payloadBytes = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  await Promise.all(
    sockets.map(
      (socket, index) =>
        new Promise<void>((resolve) => {
          let next = index;
          let outstanding = IN_FLIGHT;
          const sendOne = () => {
            const payload = payloads[next++ % payloads.length] as string;
            payloadBytes += payload.length;
            socket.send(payload);
          };
          socket.on("message", () => {
            received++;
            if (performance.now() < deadline) sendOne();
            else if (--outstanding === 0) resolve();
          });
          for (let i = 0; i < IN_FLIGHT; i++) sendOne();
        }),
    ),
  );
  const elapsed = (performance.now() - start) / 1000;
  const read = sockets.reduce((n, s) => n + s._socket.bytesRead, 0) - startRead;
  const written = sockets.reduce((n, s) => n + s._socket.bytesWritten, 0) - startWritten;
  for (const socket of sockets) socket.close();
  return {
    messagesPerSecond: Math.round(received / elapsed),
    up: Math.round(written / received),
    down: Math.round(read / received),
    payload: Math.round(payloadBytes / received),
    negotiated,
  };
}

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
      for (const [name, payloads] of Object.entries(PAYLOADS)) {
        await measure(server, payloads.slice(0, 2)); // warm-up
        const figure = await measure(server, payloads);
        rows.push(
          `| ${runtime} | ${name} | ${compression ? "on" : "off"}${figure.negotiated === compression ? "" : " (not negotiated!)"} | ${figure.payload} | ${figure.up} | ${figure.down} | ${figure.messagesPerSecond} |`,
        );
        console.error(`${runtime} ${name} compression ${compression ? "on" : "off"}: ${JSON.stringify(figure)}`);
      }
    } finally {
      await server.kill();
    }
  }
}

console.log(
  `\n${CONNECTIONS} connections, ${IN_FLIGHT} messages in flight each, ${SECONDS} s per row; bytes per message on the wire`,
);
console.log("| runtime | payload | compression | payload bytes | up (client→server) | down (server→client) | messages/s |");
console.log("| --- | --- | --- | ---: | ---: | ---: | ---: |");
for (const row of rows) console.log(row);
