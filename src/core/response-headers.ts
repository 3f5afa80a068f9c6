// The headers an app adds to the handshake's 101 response (upgradeWebSocket's `headers`).

/**
 * Headers the handshake itself writes: an app setting them would break it (or, for the
 * subprotocol, bypass `protocols`), so they are refused rather than silently overwritten.
 */
const RESERVED = new Set([
  "connection",
  "upgrade",
  "sec-websocket-accept",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "sec-websocket-version",
  "content-length",
  "transfer-encoding",
]);

/**
 * The app's headers as a Headers (which validates names and values: no CR or LF can be smuggled
 * into the response), or undefined when there are none. A reserved name is a RangeError.
 */
export function responseHeadersOf(init: HeadersInit | undefined): Headers | undefined {
  if (init === undefined) return undefined;
  const headers = new Headers(init);
  let any = false;
  for (const [name] of headers) {
    any = true;
    if (RESERVED.has(name))
      throw new RangeError(
        `upgradeWebSocket: headers may not set ${JSON.stringify(name)}, which the WebSocket handshake writes itself${name === "sec-websocket-protocol" ? " (use the protocols option)" : ""}`,
      );
  }
  return any ? headers : undefined;
}
