/**
 * What `onMessage` receives: a frame from the client, a value from the active
 * selector, or the notice that the socket has closed (delivered once, last).
 */
export type Message<Custom> =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "binary"; readonly data: Uint8Array }
  | { readonly type: "custom"; readonly value: Custom }
  | { readonly type: "closed"; readonly code: number; readonly reason: string };
