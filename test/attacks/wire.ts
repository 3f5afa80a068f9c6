// Raw TCP helpers for the attack cases: what a hostile client puts on the wire, byte for byte.
import { connect, type Socket } from "node:net";

/** An upgrade request's head for `url` (ws://host:port/path?query), with extra header lines. */
export function upgradeHead(url: string, options: { method?: string; headers?: string[] } = {}): string {
  const { host, pathname, search } = new URL(url);
  const lines = [
    `${options.method ?? "GET"} ${pathname}${search} HTTP/1.1`,
    `Host: ${host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...(options.headers ?? []),
  ];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** A TCP connection to `url`'s host and port, once connected. Errors are swallowed: the caller looks at outcomes. */
export function tcp(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Sends `head` and resolves with everything the server sent until it closed, or `ms` passed. After a
 * 101, a server close frame is answered by closing the connection (as a client that hangs up would);
 * after a refusal's head, it waits 150 ms more for the body.
 */
export async function exchange(url: string, head: string, ms = 5_000): Promise<string> {
  const socket = await tcp(url);
  return new Promise((resolve) => {
    let text = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    let timer = setTimeout(done, ms);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      const body = text.indexOf("\r\n\r\n");
      if (body < 0) return;
      if (!/^HTTP\/1\.[01] 101/.test(text)) {
        // A refusal: its body follows at once; the connection may be kept alive.
        clearTimeout(timer);
        timer = setTimeout(done, 150);
      } else if (text.indexOf("\x88", body) >= 0) socket.end();
    });
    socket.once("close", done);
    socket.write(head);
  });
}

/** The status line of a response text. */
export function statusLine(text: string): string {
  return text.split("\r\n")[0] ?? "";
}

/** A masked client frame header plus payload, any length; `fin` false starts or continues a fragmented message. */
export function bigFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const length = payload.length;
  const extended = length > 0xffff ? 8 : length > 125 ? 2 : 0;
  const out = new Uint8Array(2 + extended + 4 + length);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = 0x80 | (extended === 8 ? 127 : extended === 2 ? 126 : length);
  const view = new DataView(out.buffer);
  if (extended === 2) view.setUint16(2, length);
  if (extended === 8) view.setBigUint64(2, BigInt(length));
  // A zero mask: the payload goes out as it is.
  out.set(payload, 2 + extended + 4);
  return out;
}

/** Resolves with the server's RSS in bytes, read from the fixture's /memory route. */
export async function rss(http: string): Promise<number> {
  return (await (await fetch(`${http}/memory`)).json()) as number;
}

/** A connection upgraded at `url` whose client then stops reading: the server's frames pile up. */
export async function deafUpgrade(url: string): Promise<Socket> {
  const socket = await tcp(url);
  await new Promise<void>((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (!text.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause();
      if (/^HTTP\/1\.1 101/.test(text)) resolve();
      else reject(new Error(`no upgrade: ${text.split("\r\n")[0]}`));
    };
    socket.on("data", onData);
    socket.write(upgradeHead(url));
  });
  return socket;
}

/** Writes `bytes` and waits until the kernel took them, the connection died, or `deadline` (ms since epoch) passed. */
export function send(socket: Socket, bytes: Uint8Array, deadline = Number.POSITIVE_INFINITY): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.write(bytes)) return resolve();
    const timer = setTimeout(finish, Math.max(0, Math.min(deadline - Date.now(), 60_000)));
    function finish() {
      clearTimeout(timer);
      socket.off("drain", finish);
      socket.off("close", finish);
      resolve();
    }
    socket.once("drain", finish);
    socket.once("close", finish);
  });
}

/** An upgraded connection that reads: `closeCode` is the code of the server's first frame if it is a close frame. */
/**
 * The code of the first close frame among the server's (unmasked) frames in `data`: 1005 for one
 * without a code, undefined while none is complete. Frames before it (echoes, pongs) are skipped.
 */
export function closeFrameCode(data: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = (data[at] as number) & 0x0f;
    let length = (data[at + 1] as number) & 0x7f;
    let header = 2;
    if (length === 126) {
      if (at + 4 > data.length) return undefined;
      length = data.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (at + 10 > data.length) return undefined;
      length = Number(data.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (at + header + length > data.length) return undefined;
    if (opcode === 0x8) return length >= 2 ? data.readUInt16BE(at + header) : 1005;
    at += header + length;
  }
  return undefined;
}

/**
 * A raw client past the upgrade, and the code of the first close frame it gets (null: the
 * connection ended without one). `headers` go on the upgrade request; `accepted` checks the 101's
 * head (the upgrade rejects unless it returns true).
 */
export async function rawSocket(
  url: string,
  { headers, accepted }: { headers?: string[]; accepted?: (head: string) => boolean } = {},
): Promise<{ socket: Socket; closeCode: Promise<number | null> }> {
  const socket = await tcp(url);
  let resolveClose!: (code: number | null) => void;
  const closeCode = new Promise<number | null>((resolve) => (resolveClose = resolve));
  await new Promise<void>((resolve, reject) => {
    let data = Buffer.alloc(0);
    let upgraded = false;
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (!upgraded) {
        const end = data.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = data.subarray(0, end).toString("latin1");
        if (!head.startsWith("HTTP/1.1 101") || (accepted && !accepted(head))) return reject(new Error(`no upgrade:\n${head}`));
        upgraded = true;
        data = data.subarray(end + 4);
        resolve();
      }
      const code = closeFrameCode(data);
      if (code !== undefined) resolveClose(code);
    });
    socket.once("close", () => {
      resolveClose(null);
      reject(new Error("closed before the upgrade"));
    });
    socket.write(upgradeHead(url, headers ? { headers } : {}));
  });
  return { socket, closeCode };
}
