/**
 * The other end of a wsloop server: a typed, reconnecting WebSocket client for browsers, Deno,
 * Bun and Node (22+, or any version with `ws` passed as `WebSocket`). No dependencies, one small
 * ES module.
 *
 * Its loop is the server's, seen from the client: the state goes through `onOpen`, `onMessage`
 * and `onClose`, one event at a time and in order, with explicit dependencies. Each connection
 * attempt ends with one `onClose`; the last one (the app closed the client, or it gave up) has
 * `final: true`. Reconnects wait with exponential backoff and full jitter, chosen by close code.
 * Sends while disconnected wait in a bounded queue. The same Standard Schemas the server's
 * `jsonMessages` checks type both directions.
 *
 * @example
 * ```ts
 * import { connect } from "wsloop/client";
 * import { z } from "zod";
 *
 * const Say = z.object({ type: z.literal("say"), text: z.string().max(500) });
 * const Said = z.object({ type: z.literal("said"), user: z.string(), text: z.string() });
 *
 * const chat = connect("wss://example.com/chat", {
 *   dependencies: { show: (line: string) => console.log(line) },
 *   receive: Said,
 *   send: Say,
 *   onInit: () => ({ lines: 0 }),
 *   onMessage: (state, message, _client, deps) => {
 *     if (message.type !== "json") return state;
 *     deps.show(`${message.value.user}: ${message.value.text}`);
 *     return { lines: state.lines + 1 };
 *   },
 *   onClose: (state, close) => {
 *     if (!close.final) console.log(`reconnecting in ${close.reconnectIn} ms`);
 *     return state;
 *   },
 * });
 * chat.sendJson({ type: "say", text: "hello" }); // queued until the first connection opens
 * ```
 *
 * @module
 */
export { reconnectDecision } from "./client/backoff.ts";
export { connect } from "./client/connect.ts";
export type {
  BackoffOptions,
  Client,
  ClientMessage,
  ClientOptions,
  ClientSendError,
  ClientStatus,
  ClientUrl,
  CloseInfo,
  HeartbeatOptions,
  QueueOptions,
  ReconnectDecision,
  SendStatus,
  WebSocketConstructor,
} from "./client/types.ts";
export type { JsonError } from "./core/json.ts";
export type { Result } from "./core/result.ts";
export type { StandardSchemaV1 } from "./core/standard-schema.ts";
