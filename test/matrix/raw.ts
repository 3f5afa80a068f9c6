// A WebSocket client written by hand, to put on the wire what no real client would send.
import { connect } from "node:net";

export interface RawSocket {
  write(bytes: Uint8Array): void;
  /** The code of the server's close frame, or null if the connection ended without one. */
  readonly closeCode: Promise<number | null>;
  destroy(): void;
}

/** Opens a TCP connection and performs the upgrade handshake for `url` (ws://host:port/path). */
export function rawUpgrade(url: string): Promise<RawSocket> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let resolveClose!: (code: number | null) => void;
    const closeCode = new Promise<number | null>((done) => (resolveClose = done));
    socket.on("connect", () => {
      socket.write(
        `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        if (!head.startsWith("HTTP/1.1 101")) {
          reject(new Error(`no upgrade: ${head.split("\r\n")[0]}`));
          socket.destroy();
          return;
        }
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        resolve({ write: (bytes) => socket.write(bytes), closeCode, destroy: () => socket.destroy() });
      }
      const code = findCloseCode(buffer);
      if (code !== undefined) resolveClose(code);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      resolveClose(null);
      if (!upgraded) reject(new Error("connection closed before the upgrade"));
    });
  });
}

/** Walks the server's (unmasked) frames and returns the code of the first close frame, if complete. */
function findCloseCode(buffer: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= buffer.length) {
    const opcode = (buffer[at] as number) & 0x0f;
    let length = (buffer[at + 1] as number) & 0x7f;
    let header = 2;
    if (length === 126) {
      if (at + 4 > buffer.length) return undefined;
      length = buffer.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (at + 10 > buffer.length) return undefined;
      length = Number(buffer.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (at + header + length > buffer.length) return undefined;
    if (opcode === 0x8) return length >= 2 ? buffer.readUInt16BE(at + header) : 1005;
    at += header + length;
  }
  return undefined;
}

/** A client frame: FIN set, masked as RFC 6455 requires (unless told otherwise). */
export function frame(opcode: number, payload: Uint8Array, options: { masked?: boolean; rsv?: number } = {}): Uint8Array {
  const masked = options.masked ?? true;
  if (payload.length > 125) throw new RangeError("raw frames here are small");
  const out = new Uint8Array(2 + (masked ? 4 : 0) + payload.length);
  out[0] = 0x80 | ((options.rsv ?? 0) << 4) | opcode;
  out[1] = (masked ? 0x80 : 0) | payload.length;
  const key = [0x12, 0x34, 0x56, 0x78];
  if (masked) out.set(key, 2);
  const start = masked ? 6 : 2;
  for (let i = 0; i < payload.length; i++) out[start + i] = (payload[i] as number) ^ (masked ? (key[i % 4] as number) : 0);
  return out;
}
