// A raw TCP client that completes the WebSocket upgrade and then misbehaves on purpose: it can stop
// reading, and it never answers a close frame. Loopback only.
import { connect, type Socket } from "node:net";
import { frame } from "../../matrix/raw.ts";
import { upgradeHead } from "../wire.ts";

export interface HostileSocket {
  readonly socket: Socket;
  /** The 101 response head. */
  readonly head: string;
  /** Resolves when the server ended or dropped the TCP connection. */
  readonly gone: Promise<void>;
  /** True once the server ended or dropped the TCP connection. */
  isGone(): boolean;
  /** Sends a masked text frame (up to 125 bytes). */
  sendText(text: string): void;
  /** Stops reading from the socket: whatever the server sends piles up in the kernel buffers. */
  stopReading(): void;
  /** Reads again, discarding what arrives. */
  resumeReading(): void;
}

/** Opens `url` (ws://127.0.0.1:port/path) with optional extra request headers; rejects unless it gets 101. */
export function hostileUpgrade(url: string, headers: Record<string, string> = {}): Promise<HostileSocket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let gone = false;
    let markGone!: () => void;
    const gonePromise = new Promise<void>((done) => (markGone = done));
    const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
    socket.on("connect", () => socket.write(upgradeHead(url, { headers: extra })));
    const onData = (chunk: Buffer) => {
      if (upgraded) return;
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString();
      if (!head.startsWith("HTTP/1.1 101")) {
        reject(new Error(`no upgrade: ${head.split("\r\n")[0]}`));
        socket.destroy();
        return;
      }
      upgraded = true;
      resolve({
        socket,
        head,
        gone: gonePromise,
        isGone: () => gone,
        sendText: (text) => socket.write(frame(0x1, new TextEncoder().encode(text))),
        stopReading: () => socket.pause(),
        resumeReading: () => socket.resume(),
      });
    };
    socket.on("data", onData);
    socket.on("error", () => {});
    const end = () => {
      gone = true;
      markGone();
    };
    socket.on("end", end);
    socket.on("close", () => {
      end();
      if (!upgraded) reject(new Error("connection closed before the upgrade"));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true if `promise` settles within `ms`, false otherwise. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}
