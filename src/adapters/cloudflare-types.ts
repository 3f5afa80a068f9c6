// The slice of the Workers runtime wsloop/cloudflare uses, declared here so the package type-checks
// (and publishes) without @cloudflare/workers-types, whose globals clash with DOM's and Node's.
// A Workers `WebSocket` and `DurableObjectState` are assignable to these.

/**
 * The server end of a Workers WebSocket (`new WebSocketPair()[1]`, or what a Durable Object's
 * hibernation handlers receive).
 *
 * @example
 * ```ts
 * webSocketMessage(ws: CloudflareSocket, message: string | ArrayBuffer) {
 *   return this.loops.webSocketMessage(ws, message);
 * }
 * ```
 */
export interface CloudflareSocket {
  /** Sends a text (string) or binary frame. */
  send(message: string | ArrayBuffer | ArrayBufferView): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Stores a structured-cloneable value with the socket: it survives hibernation. */
  serializeAttachment(value: unknown): void;
  /** What `serializeAttachment` stored. */
  deserializeAttachment(): unknown;
}

/** A socket accepted with `accept()`, whose events come as listeners (not through hibernation). */
export interface ListenedSocket extends CloudflareSocket {
  accept(): void;
  /** Newer compatibility dates deliver binary messages as Blobs by default, as browsers do. */
  binaryType: string;
  addEventListener(type: string, listener: (event: never) => void): void;
}

/**
 * The part of a Durable Object's `ctx` (its `DurableObjectState`) that wsloop uses.
 *
 * @example
 * ```ts
 * constructor(ctx: DurableObjectContext, env: Env) {
 *   this.loops = createDurableHandler(ctx, app);
 * }
 * ```
 */
export interface DurableObjectContext {
  /** Accepts a socket through the hibernation API: its events reach the object's `webSocket*` methods. */
  acceptWebSocket(socket: CloudflareSocket, tags?: string[]): void;
  /** Answers `request` frames with `response` without waking the object. */
  setWebSocketAutoResponse(pair?: unknown): void;
  /** The sockets accepted with `acceptWebSocket` that are still open, across hibernation. */
  getWebSockets(): CloudflareSocket[];
  /** Holds the object's events until `callback` settled. */
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

/** What Workers' globals add: `new WebSocketPair()` and the `webSocket` field of a 101 Response. */
export interface WorkersGlobals {
  WebSocketPair: new () => { 0: ListenedSocket; 1: ListenedSocket };
  WebSocketRequestResponsePair: new (request: string, response: string) => unknown;
}

export function workers(): WorkersGlobals {
  const globals = globalThis as unknown as Partial<WorkersGlobals>;
  if (!globals.WebSocketPair || !globals.WebSocketRequestResponsePair)
    throw new Error("wsloop/cloudflare runs on Cloudflare Workers (workerd): WebSocketPair is missing here");
  return globals as WorkersGlobals;
}

/** The 101 Response that hands the client end of a pair to the runtime. */
export function switchingProtocols(client: CloudflareSocket, protocol: string): Response {
  const init = { status: 101, webSocket: client, headers: protocol ? { "sec-websocket-protocol": protocol } : undefined };
  return new Response(null, init as ResponseInit);
}
