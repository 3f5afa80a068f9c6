// The handler set every recipe mounts at /ws: each text message comes back as "echo: TEXT".
import { type Connection, continueConnection, type Message, sendText, upgradeWebSocket } from "../../src/index.ts";

function onInit(_connection: Connection, _deps: null): [null] {
  return [null];
}

function onMessage(state: null, message: Message<never>, connection: Connection) {
  if (message.type === "text") sendText(connection, `echo: ${message.text}`);
  return continueConnection(state);
}

function onClose(): void {}

/** Upgrades `request` into the echo loop (or answers 426). */
export function echo(request: Request): Response {
  return upgradeWebSocket(request, { dependencies: null, onInit, onMessage, onClose });
}
