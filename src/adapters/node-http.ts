import { type IncomingMessage, type Server, ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { type Duplex, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { TLSSocket } from "node:tls";

/** The web Request for a Node request; the body streams, it is not buffered. */
export function toRequest(req: IncomingMessage, signal?: AbortSignal): Request {
  const scheme = (req.socket as TLSSocket).encrypted ? "https" : "http";
  const url = new URL(req.url ?? "/", `${scheme}://${req.headers.host ?? "localhost"}`);
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (signal) init.signal = signal;
  if (method !== "GET" && method !== "HEAD") {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(url, init);
}

/** Writes a web Response to a Node response, streaming its body with backpressure. */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (!response.body) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>), res);
}

/**
 * Answers an upgrade request the app refused, on the raw socket, then closes it. The client may
 * be gone already: nothing is written to a destroyed socket, and the reason phrase is the standard
 * one for the status (a Response's statusText never reaches the wire here).
 */
export async function refuseUpgrade(socket: Duplex, response: Response): Promise<void> {
  let body: Uint8Array;
  try {
    body = response.body ? new Uint8Array(await response.arrayBuffer()) : new Uint8Array(0);
  } catch {
    body = new Uint8Array(0);
  }
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = response.status;
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`];
  for (const [name, value] of response.headers) {
    if (name !== "content-length" && name !== "connection" && name !== "transfer-encoding") lines.push(`${name}: ${value}`);
  }
  lines.push(`content-length: ${body.byteLength}`, "connection: close");
  socket.end(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]), () => socket.destroy());
}

/** True when the request asks for the WebSocket protocol (`Upgrade: websocket`, any method). */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  // What browsers and most clients send: no lower-casing and splitting for it.
  if (upgrade === "websocket") return true;
  return (
    upgrade
      ?.toLowerCase()
      .split(",")
      .some((token) => token.trim() === "websocket") ?? false
  );
}

/**
 * Hands an upgrade request nobody takes (h2c, or a WebSocket one `attach` declined) to the server's
 * request handler, as Node does when a server has no 'upgrade' listener at all. The connection
 * closes after the response: Node's parser has left it.
 */
export function asPlainRequest(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on("error", () => socket.destroy());
  if (head.length > 0) socket.unshift(head);
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once("finish", () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  server.emit("request", req, res);
}
