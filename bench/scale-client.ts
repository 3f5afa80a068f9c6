// One of the scale figure's client processes (bench/scale.ts starts several): `count` idle
// WebSockets to 127.0.0.1:port from its own loopback source address (127.0.0.2, .3, ...), so that
// 50,000 connections do not run out of ports, on plain TCP sockets with the handshake and
// frames written by hand (a WebSocket object per connection would cost this process more than the
// server under test). It binds each socket's local port itself, counting up from `localPort`: with
// the kernel's choice, bind() searches the port range and slows to ~300 connections/s by 10,000. Driven by lines on stdin, answered on stdout (bench/lib/scale.ts times them as
// they arrive, on one clock):
//   open  -> OPENED <failed>   every socket opened (at most `concurrency` handshakes at a time)
//   arm   -> ARMED, and GOT once every socket has received a text frame since `arm`
//   send TEXT                  sends TEXT ("broadcast") on a control connection of its own
//   close -> CLOSED <left>     sent a close frame on each, and each socket is closed (or 30 s)
// Usage: bun bench/scale-client.ts '{"port":1234,"count":10000,"localAddress":"127.0.0.2"}'
import { connect, type Socket } from "node:net";

interface Options {
  port: number;
  count: number;
  localAddress: string;
  /** The first local port to bind (each connection takes the next free one); kernel's choice without. */
  localPort?: number;
  path?: string;
  concurrency?: number;
}
const options = JSON.parse(process.argv[2] ?? "{}") as Options;
const say = (line: string) => process.stdout.write(`${line}\n`);

// Any valid key: the server's accept value is not checked (the status line is).
const head = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
// A masked text frame and a masked close frame (code 1000), with a zero mask.
const textFrame = (text: string) => Buffer.concat([Buffer.from([0x81, 0x80 | text.length, 0, 0, 0, 0]), Buffer.from(text)]);
const closeFrame = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);

interface Connection {
  socket: Socket;
  /** Bytes after the handshake not yet read as whole frames. */
  pending: Buffer;
  received: number;
  closed: boolean;
}

let armed = false;
let waiting = 0;
let closedLeft = 0;
let onAllClosed: (() => void) | undefined;

/** Reads the whole frames in `connection.pending`: text frames count, a close frame ends the socket. */
function readFrames(connection: Connection): void {
  let buffer = connection.pending;
  while (buffer.length >= 2) {
    const opcode = (buffer[0] as number) & 0x0f;
    let length = (buffer[1] as number) & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) break;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) break;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) break;
    buffer = buffer.subarray(offset + length);
    if (opcode === 1 && armed && connection.received++ === 0 && --waiting === 0) say("GOT");
    if (opcode === 8) connection.socket.end();
  }
  connection.pending = buffer;
}

let nextPort = options.localPort ?? 0;

function open(path: string, counted = true): Promise<Connection | undefined> {
  return new Promise((resolve) => {
    const localPort = nextPort ? nextPort++ : undefined;
    const socket = connect({
      host: "127.0.0.1",
      port: options.port,
      localAddress: options.localAddress,
      localPort,
      noDelay: true,
    });
    const connection: Connection = { socket, pending: Buffer.alloc(0), received: 0, closed: false };
    let upgraded = false;
    socket.on("connect", () => socket.write(head(path)));
    socket.on("data", (chunk: Buffer) => {
      connection.pending = connection.pending.length ? Buffer.concat([connection.pending, chunk]) : chunk;
      if (!upgraded) {
        const end = connection.pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!connection.pending.subarray(0, 12).toString().startsWith("HTTP/1.1 101")) {
          socket.destroy();
          return;
        }
        upgraded = true;
        connection.pending = connection.pending.subarray(end + 4);
        resolve(connection);
      }
      readFrames(connection);
    });
    let inUse = false;
    socket.on("error", (error: NodeJS.ErrnoException) => {
      inUse = error.code === "EADDRINUSE";
      socket.destroy();
    });
    socket.on("close", () => {
      connection.closed = true;
      // A local port still taken (by another program, or a socket of an earlier run): the next one.
      if (!upgraded && inUse && nextPort < 65535) resolve(open(path, counted));
      else if (!upgraded) resolve(undefined);
      else if (counted && --closedLeft === 0) onAllClosed?.();
    });
  });
}

const connections: Connection[] = [];
let control: Connection | undefined;

async function openAll(): Promise<number> {
  const concurrency = options.concurrency ?? 200;
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < options.count) {
      next++;
      const connection = await open(options.path ?? "/?sub=frame");
      if (connection) connections.push(connection);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  closedLeft = connections.length;
  control = await open("/", false);
  return failed;
}

function closeAll(): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(closedLeft), 30_000);
    onAllClosed = () => {
      clearTimeout(timer);
      resolve(0);
    };
    if (closedLeft === 0) onAllClosed();
    for (const connection of connections) if (!connection.closed) connection.socket.write(closeFrame);
  });
}

let input = "";
process.stdin.on("data", async (chunk: Buffer) => {
  input += chunk;
  let newline = input.indexOf("\n");
  while (newline >= 0) {
    const command = input.slice(0, newline).trim();
    input = input.slice(newline + 1);
    newline = input.indexOf("\n");
    if (command === "open") {
      const failed = await openAll();
      say(`OPENED ${failed}`);
    } else if (command === "arm") {
      for (const connection of connections) connection.received = 0;
      waiting = connections.length;
      armed = true;
      say("ARMED");
    } else if (command.startsWith("send ")) {
      control?.socket.write(textFrame(command.slice(5)));
    } else if (command === "close") {
      control?.socket.write(closeFrame);
      const left = await closeAll();
      say(`CLOSED ${left}`);
    } else if (command === "exit") process.exit(0);
  }
});
say("READY");
