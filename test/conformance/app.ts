// The echo app the Autobahn TestSuite runs against (npm run test:conformance): every path upgrades,
// text is echoed as text and binary as binary, with wsloop's defaults but for maxMessageSize.
import {
  type Action,
  type Connection,
  continueConnection,
  type Message,
  sendBinary,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";

/** Cases 9.1.6 and 9.2.6 echo a 16 MiB message; the headroom keeps the limit out of the way. */
export const MAX_MESSAGE_SIZE = 32 * 1024 * 1024;

function onInit(_connection: Connection, _deps: null): [null] {
  return [null];
}

function onMessage(state: null, message: Message<never>, connection: Connection, _deps: null): Action<null, never> {
  switch (message.type) {
    case "text":
      sendText(connection, message.text);
      return continueConnection(state);
    case "binary":
      sendBinary(connection, message.data);
      return continueConnection(state);
    case "closed":
      return stopConnection();
    default:
      return continueConnection(state);
  }
}

function onClose(_state: null, _deps: null): void {}

export function echo(request: Request): Response {
  return upgradeWebSocket(request, { dependencies: null, onInit, onMessage, onClose, maxMessageSize: MAX_MESSAGE_SIZE });
}

/**
 * Serves the echo app on 127.0.0.1:$PORT (0 picks one) and prints `READY port`; with
 * WSLOOP_COMPRESSION=1, with compression on (sections 12 and 13: permessage-deflate).
 */
export async function runEcho(
  serve: (options: { fetch: typeof echo; port: number; hostname: string; compression?: boolean }) => Promise<{ port: number }>,
): Promise<void> {
  const compression = process.env.WSLOOP_COMPRESSION === "1";
  const server = await serve({
    fetch: echo,
    port: Number(process.env.PORT ?? 0),
    hostname: "127.0.0.1",
    ...(compression ? { compression } : {}),
  });
  console.log(`READY ${server.port}`);
}
