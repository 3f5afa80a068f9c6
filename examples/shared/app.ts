// The echo chat of Dream's websocket module, as one runtime-neutral fetch handler.
// examples/node, examples/bun and examples/deno serve this same module; only `serve` differs.
// In your own project the import is `from "wsloop"`.
import {
  type Action,
  type Connection,
  type Message,
  continueConnection,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";
import { page } from "./page.ts";

interface Dependencies {
  userName: string;
}

/** GET / serves the chat page, GET /ws?user=NAME upgrades, anything else is 404. */
export function app(request: Request): Response {
  const url = new URL(request.url);
  if (url.pathname === "/" && request.method === "GET") {
    return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
  }
  if (url.pathname === "/ws") {
    const dependencies: Dependencies = { userName: url.searchParams.get("user") || "Anonymous" };
    return upgradeWebSocket(request, { dependencies, onInit: handleInit, onMessage: handleMessage, onClose: handleClose });
  }
  return new Response("Not Found", { status: 404 });
}

// The state is unused here, as in the seed: the user name lives in the dependencies.
function handleInit(_connection: Connection, _deps: Dependencies): [string] {
  return [""];
}

function handleMessage(state: string, message: Message<never>, connection: Connection, deps: Dependencies): Action<string, never> {
  switch (message.type) {
    case "text":
      sendText(connection, `${deps.userName}: ${message.text}`);
      return continueConnection(state);
    case "closed":
      return stopConnection();
    default:
      return continueConnection(state);
  }
}

function handleClose(_state: string, _deps: Dependencies): void {}

/** The port from $PORT, 3000 by default. */
export function portFromEnv(env: string | undefined): number {
  const port = Number(env ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be a port number, got ${env}`);
  return port;
}
