/**
 * What `onMessage` receives: a frame from the client, a value from the active
 * selector, or the notice that the socket has closed (delivered once, last).
 *
 * `Notices` adds messages a handler opts into, such as {@link RateLimited} (with
 * `rateLimit: { exceeded: "message" }`); it defaults to none, so a switch over the four
 * types above stays exhaustive.
 *
 * @example
 * ```ts
 * switch (message.type) {
 *   case "text": return onText(state, message.text);
 *   case "binary": return onBytes(state, message.data);
 *   case "custom": return onCustom(state, message.value);
 *   case "closed": return stopConnection();
 * }
 * ```
 */
export type Message<Custom, Notices extends Notice = never> =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "binary"; readonly data: Uint8Array }
  | { readonly type: "custom"; readonly value: Custom }
  | { readonly type: "closed"; readonly code: number; readonly reason: string }
  | Notices;

/**
 * A client frame over the connection's `rateLimit`, handed to `onMessage` instead of the frame
 * when the limit's `exceeded` is `"message"`: the handler decides (drop it, handle it anyway, or
 * `stopConnection`). It keeps its place in the order of messages.
 *
 * @example
 * ```ts
 * function onMessage(state: State, message: Message<never, RateLimited>, connection: Connection) {
 *   if (message.type === "rate_limited") {
 *     sendText(connection, "slow down");
 *     return continueConnection(state); // the frame is dropped
 *   }
 *   return handle(state, message, connection);
 * }
 * ```
 */
export interface RateLimited {
  /** A frame over the rate limit. */
  readonly type: "rate_limited";
  /** The frame that was over the limit. */
  readonly message: Extract<Message<never>, { type: "text" | "binary" }>;
}

/**
 * Messages a handler can opt into (see `Message`'s second type parameter).
 *
 * @example
 * ```ts
 * type WithNotices = Message<never, Notice>; // every message wsloop can hand a handler
 * ```
 */
export type Notice = RateLimited;
