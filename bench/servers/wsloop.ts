// wsloop on whichever runtime runs this file: the echo handler of the examples, and broadcast
// through the memory broker, as a frame (?sub=frame: the fast path, Bun's native topics on Bun)
// or through each subscriber's loop (?sub=topic: a topic selector).
import {
  type Broker,
  type Connection,
  continueConnection,
  createMemoryBroker,
  type Message,
  type Payload,
  type Selector,
  sendBinary,
  sendText,
  upgradeWebSocket,
} from "../../src/index.ts";
import { counters, diagnostics, subOf } from "./diagnostics.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

interface Deps {
  broker: Broker;
  sub: "topic" | "frame" | null;
}

function onInit(connection: Connection, deps: Deps): [null] | [null, Selector<Payload>] {
  counters.opened++;
  if (deps.sub === "topic") return [null, deps.broker.topic("all")];
  if (deps.sub !== null) deps.broker.join(connection, "all");
  return [null];
}

function onMessage(state: null, message: Message<Payload>, connection: Connection, deps: Deps) {
  switch (message.type) {
    case "text":
      if (message.text === "broadcast") void deps.broker.publishFrame("all", "news");
      else if (message.text === "broadcastTopic") void deps.broker.publish("all", "news");
      else sendText(connection, message.text);
      break;
    case "binary":
      sendBinary(connection, message.data);
      break;
    case "custom":
      sendText(connection, message.value as string);
      break;
  }
  return continueConnection(state);
}

function onClose(): void {
  counters.closed++;
}

const broker = createMemoryBroker();
function app(request: Request): Response {
  const answer = diagnostics(request.url);
  if (answer) return answer;
  // No keepalive, like the raw and crossws servers here: the figures compare the loops alone.
  return upgradeWebSocket(request, {
    dependencies: { broker, sub: subOf(request.url) },
    onInit,
    onMessage,
    onClose,
    idleTimeout: 0,
  });
}

// Literal paths, so that the bench can bundle this file for Node (bench/lib/processes.ts).
const adapter =
  runtime === "node"
    ? await import("../../src/adapters/node.ts")
    : runtime === "bun"
      ? await import("../../src/adapters/bun.ts")
      : await import("../../src/adapters/deno.ts");
const server = await adapter.serve({ fetch: app, port: 0, hostname: "127.0.0.1" });
console.log(`READY ${server.port}`);
