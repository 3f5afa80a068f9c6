/**
 * Typed WebSocket loops for Node, Bun and Deno, over crossws. A fetch handler calls
 * {@link upgradeWebSocket} with `onInit`, `onMessage` and `onClose`, and every connection becomes
 * a small state machine that sees its messages one at a time, in order, and is told exactly once
 * when it ends.
 *
 * This entry point is the runtime-neutral part: the loop, its actions, sending, selectors, brokers
 * and typed JSON messages. The servers are in `wsloop/node`, `wsloop/bun` and `wsloop/deno` (the
 * same `serve` on each), hosts that upgrade through crossws use `wsloop/crossws`, the Redis broker
 * is `wsloop/redis`, and `wsloop/testing` runs handlers in memory.
 *
 * @example
 * ```ts
 * import { continueConnection, type Connection, type Message, sendText, upgradeWebSocket } from "wsloop";
 * import { serve } from "wsloop/node"; // or "wsloop/bun", or "wsloop/deno"
 *
 * function onMessage(state: null, message: Message<never>, connection: Connection) {
 *   if (message.type === "text") sendText(connection, `echo: ${message.text}`);
 *   return continueConnection(state);
 * }
 *
 * await serve({
 *   fetch: (request) =>
 *     upgradeWebSocket(request, { dependencies: null, onInit: () => [null], onMessage, onClose: () => {} }),
 *   port: 3000,
 * });
 * ```
 *
 * @module
 */
export type { Action } from "./core/action.ts";
export { continueConnection, continueConnectionWithSelector, stopConnection } from "./core/action.ts";
export type { Broker, MemoryBroker, MemoryBrokerOptions, Payload, ReplayBroker } from "./core/broker.ts";
export { createMemoryBroker } from "./core/broker.ts";
export type { Connection, RemoteAddress } from "./core/connection.ts";
export { sendBinary, sendText } from "./core/connection.ts";
export type { JsonError, JsonMessage, JsonMessagesOptions } from "./core/json.ts";
export { jsonMessages, sendJson } from "./core/json.ts";
export type { Message, Notice, RateLimited } from "./core/message.ts";
export type { Presence, PresenceDiff, PresenceMeta, PresenceState } from "./core/presence.ts";
export { createPresence } from "./core/presence.ts";
export type { TrustedProxies } from "./core/proxies.ts";
export type { RateLimit } from "./core/rate-limit.ts";
export type { Result, SendError } from "./core/result.ts";
export type { Selector, Subject } from "./core/selector.ts";
export { createSubject, mapSelector, mergeSelectors } from "./core/selector.ts";
export type { StandardSchemaV1 } from "./core/standard-schema.ts";
export type { ServerStats } from "./core/stats.ts";
export type { ReplayOptions, Retention, TopicEvent } from "./core/stream.ts";
export { PublishError } from "./core/stream.ts";
export type { MessageHandler, UpgradeOptions } from "./core/upgrade.ts";
export { isWebSocketUpgrade, upgradeWebSocket } from "./core/upgrade.ts";
