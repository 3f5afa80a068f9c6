// The examples' app, one runtime-neutral fetch handler served unchanged by examples/node,
// examples/bun and examples/deno. In your own project the import is `from "wsloop"`.
import {
  type Action,
  type Broker,
  type Connection,
  continueConnection,
  type Message,
  type ServerStats,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";
import { prometheus } from "./metrics.ts";
import { page } from "./page.ts";
import { handleRoomClose, handleRoomInit, handleRoomMessage, type RoomDependencies } from "./room.ts";

export interface AppDependencies {
  broker: Broker;
  /** The page's scripts, by path: "/chat.js" (the page's own) and "/client.js" (wsloop/client). */
  scripts?: Record<string, string>;
  /** The server's stats, for GET /metrics (undefined until it runs). */
  stats?: () => ServerStats | undefined;
}

/**
 * GET / is the chat page (its scripts at /chat.js and /client.js); /chat?user=NAME and
 * /chat/ROOM?user=NAME join a room; /ws?user=NAME is the echo chat of Dream's websocket
 * documentation; GET /metrics is the server's stats for Prometheus.
 */
export function createApp(app: AppDependencies): (request: Request) => Response {
  return (request) => {
    const url = new URL(request.url);
    const user = url.searchParams.get("user") || "Anonymous";
    if (url.pathname === "/" && request.method === "GET") {
      return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    const script = request.method === "GET" ? app.scripts?.[url.pathname] : undefined;
    if (script !== undefined) {
      return new Response(script, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" } });
    }
    const stats = url.pathname === "/metrics" ? app.stats?.() : undefined;
    if (stats) return new Response(prometheus(stats), { headers: { "content-type": "text/plain; version=0.0.4" } });
    if (url.pathname === "/ws") {
      const dependencies: EchoDependencies = { userName: user };
      return upgradeWebSocket(request, { dependencies, onInit: handleInit, onMessage: handleMessage, onClose: handleClose });
    }
    const room = roomOf(url.pathname);
    if (room !== undefined) {
      const dependencies: RoomDependencies = { broker: app.broker, room, user };
      return upgradeWebSocket(request, {
        dependencies,
        onInit: handleRoomInit,
        onMessage: handleRoomMessage,
        onClose: handleRoomClose,
        maxMessageSize: 64 * 1024,
      });
    }
    return new Response("Not Found", { status: 404 });
  };
}

/** "lobby" for /chat, ROOM for /chat/ROOM, undefined for anything else. */
function roomOf(pathname: string): string | undefined {
  if (pathname === "/chat") return "lobby";
  const match = /^\/chat\/([^/]{1,64})$/.exec(pathname);
  return match ? decodeURIComponent(match[1] as string) : undefined;
}

// The echo chat. Its state is unused, as in the seed: the user name lives in the dependencies.
interface EchoDependencies {
  userName: string;
}

function handleInit(_connection: Connection, _deps: EchoDependencies): [string] {
  return [""];
}

function handleMessage(
  state: string,
  message: Message<never>,
  connection: Connection,
  deps: EchoDependencies,
): Action<string, never> {
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

function handleClose(_state: string, _deps: EchoDependencies): void {}

/** The port from $PORT, 3000 by default. */
export function portFromEnv(env: string | undefined): number {
  const port = Number(env ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be a port number, got ${env}`);
  return port;
}

/** $DRAIN: seconds to spread the closes over at shutdown (default 0), checked at start, not at SIGTERM. */
export function drainFromEnv(env: string | undefined): number {
  const drain = Number(env ?? 0);
  if (!(drain >= 0 && drain <= 3600)) throw new RangeError(`DRAIN must be a number of seconds from 0 to 3600, got ${env}`);
  return drain;
}
