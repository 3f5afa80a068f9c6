// The reconnecting client: one loop (state, handlers, a mailbox) over a series of sockets.
// Nothing here imports the core at run time, so the client bundles alone (dist/client.js).
import type { Result } from "../core/result.ts";
import { reconnectDecision, reconnectDelay } from "./backoff.ts";
import { decode } from "./decode.ts";
import { createOutbox, type Payload, utf8Length } from "./outbox.ts";
import { serial, thenable } from "./serial.ts";
import type { Client, ClientOptions, ClientSendError, ClientStatus, ClientUrl, CloseInfo, SendStatus } from "./types.ts";

/** What the loop handles, in the order it happened. */
type Mail = { kind: "open" } | { kind: "data"; data: unknown } | { kind: "close"; info: CloseInfo };

/** The socket as the client drives it (any WebSocket the constructor type admits has these). */
interface Socket {
  readonly readyState: number;
  binaryType: string;
  send(data: Payload): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: (() => void) | null;
}

const OPEN = 1;

const ok = (value: SendStatus): Result<SendStatus, ClientSendError> => ({ ok: true, value });
const fail = (error: ClientSendError): Result<SendStatus, ClientSendError> => ({ ok: false, error });

/**
 * Opens a reconnecting WebSocket client whose frames run through a loop like the server's: the
 * state goes through `onOpen`, `onMessage` and `onClose`, one event at a time, in order; each
 * connection attempt ends with one `onClose`, and the last one has `final: true`. While
 * disconnected, sends are queued (bounded) and go out in order once a connection opens, after
 * what the `resume` hook sends.
 *
 * @example
 * ```ts
 * import { connect } from "wsloop/client";
 *
 * const client = connect("wss://example.com/chat?user=Ann", {
 *   dependencies: { render: (lines: string[]) => console.log(lines.join("\n")) },
 *   onInit: () => [] as string[],
 *   onMessage: (lines, message, _client, deps) => {
 *     if (message.type !== "text") return lines;
 *     const next = [...lines, message.text];
 *     deps.render(next);
 *     return next;
 *   },
 *   onClose: (lines, close) => (close.final ? lines : [...lines, `(reconnecting in ${close.reconnectIn} ms)`]),
 * });
 * client.sendText("hello");
 * ```
 */
export function connect<State, Deps, In = never, Out = unknown>(
  url: ClientUrl<State>,
  options: ClientOptions<State, Deps, In, Out>,
): Client<Out> {
  const { dependencies: deps, receive, send: sendSchema, heartbeat, backoff = {} } = options;
  const onError = options.onError ?? console.error;
  const base = backoff.base ?? 500;
  const cap = backoff.cap ?? 30_000;
  const maxAttempts = backoff.maxAttempts ?? Number.POSITIVE_INFINITY;
  const minUptime = backoff.minUptime ?? 5_000;
  const maxMessageSize = options.maxMessageSize ?? Number.POSITIVE_INFINITY;
  const outbox = options.queue === false ? undefined : createOutbox(options.queue ?? {});
  type SocketClass = new (url: string, protocols?: string | string[]) => Socket;
  const WebSocketClass = (options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket) as SocketClass | undefined;
  if (!WebSocketClass)
    throw new TypeError("wsloop/client: no global WebSocket here (Node 20): pass options.WebSocket, e.g. ws's");

  // Set by onInit before any event; declared first so a close() inside onInit finds it.
  let state = undefined as State;
  let status: ClientStatus = "connecting";
  let socket: Socket | undefined;
  /** Retries in a row since the last connection that stayed up minUptime. */
  let retries = 0;
  let openedAt = 0;
  /** True while the resume hook runs: its sends go straight out, ahead of the queue. */
  let resuming = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let beat: ReturnType<typeof setTimeout> | undefined;
  let lastHeard = 0;
  let pinged = false;
  let settle: (info: CloseInfo) => void = () => {};
  const closed = new Promise<CloseInfo>((resolve) => {
    settle = resolve;
  });

  const stopTimers = () => {
    clearTimeout(timer);
    clearTimeout(beat);
  };

  // The loop: one event at a time; an async handler holds the next one until it settles.
  let finished = false;
  const loop = serial<Mail>((item) => {
    let next: State | PromiseLike<State>;
    try {
      next = handle(item);
    } catch (error) {
      return failed(error, item);
    }
    if (!thenable(next)) return done(item, next);
    return next.then(
      (value) => done(item, value),
      (error: unknown) => failed(error, item),
    );
  });
  const post = (item: Mail) => {
    if (!finished) loop.post(item);
  };
  const done = (item: Mail, value: State) => {
    state = value;
    if (item.kind === "close" && item.info.final) {
      finished = true;
      settle(item.info);
    }
  };
  const failed = (error: unknown, item: Mail) => {
    onError(error);
    if (item.kind === "close" && item.info.final) done(item, state);
    else if (status !== "closed") {
      // Like a server handler that throws: this client ends, with what is queued dropped.
      loop.clear();
      end(1011, "handler error", socket?.readyState === OPEN);
    }
  };

  const handle = (item: Mail): State | PromiseLike<State> => {
    if (item.kind === "open") return options.onOpen ? options.onOpen(state, client, deps) : state;
    if (item.kind === "close") return options.onClose ? options.onClose(state, item.info, deps) : state;
    const message = decode(item.data, receive);
    return thenable(message)
      ? message.then((decoded) => options.onMessage(state, decoded, client, deps))
      : options.onMessage(state, message, client, deps);
  };

  // Sockets: one at a time; events of a socket that is no longer `socket` are ignored.
  const open = () => {
    status = "connecting";
    openedAt = 0;
    let ws: Socket;
    try {
      ws = new WebSocketClass(String(typeof url === "function" ? url(state) : url), options.protocols);
    } catch (error) {
      // A URL the constructor refuses will not get better: report it and end.
      onError(error);
      end(1006, String(error), false);
      return;
    }
    socket = ws;
    ws.binaryType = "arraybuffer";
    timer = setTimeout(() => drop(ws, "connect timeout"), options.connectTimeout ?? 10_000);
    ws.onopen = () => {
      if (ws !== socket) return;
      clearTimeout(timer);
      status = "open";
      openedAt = lastHeard = Date.now();
      pinged = false;
      if (heartbeat) beat = setTimeout(check, heartbeat.timeout / 2);
      resuming = true;
      try {
        options.resume?.(state, client, deps);
      } catch (error) {
        resuming = false;
        failed(error, { kind: "open" });
        return;
      }
      resuming = false;
      flush();
      post({ kind: "open" });
    };
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      lastHeard = Date.now();
      pinged = false;
      post({ kind: "data", data: event.data });
    };
    ws.onclose = (event) => {
      if (ws === socket) lost(event.code, event.reason, openedAt > 0);
    };
    ws.onerror = () => {
      // A close event follows; an error listener also keeps ws (Node) from throwing it.
    };
  };

  const flush = () => {
    if (!outbox) return;
    while (outbox.items.length > 0 && socket?.readyState === OPEN) {
      try {
        socket.send(outbox.items[0] as Payload);
      } catch {
        return; // closing under us: the rest waits for the next connection
      }
      outbox.take();
    }
  };

  // The heartbeat: a ping at half the timeout in silence, dead at the full timeout.
  const check = () => {
    const ws = socket;
    if (!heartbeat || !ws) return;
    const silent = Date.now() - lastHeard;
    if (silent >= heartbeat.timeout) return drop(ws, "heartbeat timeout");
    if (!pinged && silent >= heartbeat.timeout / 2) {
      pinged = true;
      if (heartbeat.ping !== undefined) ws.send(heartbeat.ping);
    }
    beat = setTimeout(check, (pinged ? heartbeat.timeout : heartbeat.timeout / 2) - silent);
  };

  /** Gives up on a socket that did not open or went silent: as if it had dropped (1006). */
  const drop = (ws: Socket, reason: string) => {
    const opened = openedAt > 0;
    socket = undefined;
    try {
      ws.close();
    } catch {
      // Already closing.
    }
    lost(1006, reason, opened);
  };

  /** The current socket ended without the app asking: retry after a delay, or end. */
  const lost = (code: number, reason: string, opened: boolean) => {
    socket = undefined;
    stopTimers();
    if (opened && Date.now() - openedAt >= minUptime) retries = 0;
    const decision = options.reconnect?.({ code, reason, opened }) ?? reconnectDecision(code);
    if (decision === "stop" || retries >= maxAttempts) return end(code, reason, opened);
    const delay = reconnectDelay(decision, retries++, base, cap, Math.random());
    status = "waiting";
    timer = setTimeout(open, delay);
    post({ kind: "close", info: { code, reason, opened, reconnectIn: delay, final: false, unsent: 0 } });
  };

  /** Closes for good: the final onClose comes after what the loop already holds. */
  const end = (code: number, reason: string, opened: boolean) => {
    status = "closed";
    stopTimers();
    const ws = socket;
    socket = undefined;
    try {
      ws?.close(code === 1011 ? 1000 : code, reason);
    } catch {
      ws?.close(); // a reason over 123 bytes: close without it
    }
    const unsent = outbox?.clear() ?? 0;
    post({ kind: "close", info: { code, reason, opened, reconnectIn: undefined, final: true, unsent } });
  };

  const enqueue = (payload: Payload, size: number): Result<SendStatus, ClientSendError> => {
    if (status === "closed") return fail({ type: "closed" });
    if (size > maxMessageSize) return fail({ type: "too_large", size, limit: maxMessageSize });
    if (socket?.readyState === OPEN && (resuming || !outbox?.items.length)) {
      try {
        socket.send(payload);
        return ok("sent");
      } catch {
        // The socket is going away: queue it for the next one.
      }
    }
    if (!outbox) return fail({ type: "offline" });
    const error = outbox.add(payload, size);
    return error ? fail(error) : ok("queued");
  };

  const client: Client<Out> = {
    sendText: (text) => enqueue(text, utf8Length(text)),
    sendBinary: (data) => enqueue(data, data.byteLength),
    sendJson(value) {
      if (sendSchema) {
        const result = sendSchema["~standard"].validate(value);
        if (thenable(result)) throw new TypeError("wsloop/client: sendJson needs a send schema that validates synchronously");
        if (result.issues) return fail({ type: "invalid", issues: result.issues });
      }
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError("wsloop/client: sendJson: the value has no JSON representation");
      return client.sendText(text);
    },
    close(code = 1000, reason = "") {
      if (code !== 1000 && (code < 3000 || code > 4999))
        throw new RangeError(`wsloop/client: close code ${code}: use 1000 or 3000-4999`);
      if (status !== "closed") end(code, reason, status === "open");
    },
    reconnectNow() {
      if (status !== "waiting") return;
      clearTimeout(timer);
      open();
    },
    get status() {
      return status;
    },
    get queued() {
      return outbox?.items.length ?? 0;
    },
    closed,
  };

  state = options.onInit(client, deps);
  // onInit may have closed the client already (TypeScript cannot see the closures change status).
  if ((status as ClientStatus) !== "closed") open();
  return client;
}
