// A crossws host (crossws/server) whose route hands wsloop's upgrade over with toCrossws, with
// headers for the 101: the handshake features through a host that performs the upgrade itself.
import { serve } from "crossws/server";
import { toCrossws } from "../../src/adapters/crossws.ts";
import { type Connection, continueConnection, type Message, sendText, upgradeWebSocket } from "../../src/index.ts";

function onMessage(state: null, message: Message<never>, connection: Connection) {
  if (message.type === "text") sendText(connection, JSON.stringify({ remote: connection.remoteAddress ?? null }));
  return continueConnection(state);
}

function fetch(request: Request): Response {
  const upgrade = upgradeWebSocket(request, {
    dependencies: null,
    onInit: () => [null] as const,
    onMessage,
    onClose: () => {},
    onError: () => {},
    headers: { "set-cookie": "host=crossws; Path=/" },
  });
  try {
    return toCrossws(request, upgrade);
  } catch (error) {
    return new Response(String(error), { status: 500 });
  }
}

const server = serve({ fetch, websocket: {}, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1", silent: true });
await server.ready();
console.log(`READY ${new URL(server.url as string).port}`);
