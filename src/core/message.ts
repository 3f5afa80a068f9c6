/**
 * What `onMessage` receives: a frame from the client, a value from the active
 * selector, or the notice that the socket has closed (delivered once, last).
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
export type Message<Custom> =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "binary"; readonly data: Uint8Array }
  | { readonly type: "custom"; readonly value: Custom }
  | { readonly type: "closed"; readonly code: number; readonly reason: string };
