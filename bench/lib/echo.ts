// The echo handlers the in-process benchmarks time (bench:loop, bench/observe.ts).
import { type Connection, continueConnection, type Message, sendText } from "../../src/index.ts";

/** Answers a text frame with itself, synchronously. */
export function echo(s: null, m: Message<never>, c: Connection) {
  if (m.type === "text") sendText(c, m.text);
  return continueConnection(s);
}

/** The same, as an async handler (a promise per message is the handler's, not the loop's). */
export async function asyncEcho(s: null, m: Message<never>, c: Connection) {
  return echo(s, m, c);
}

/** Both, labelled. */
export const ECHO_HANDLERS = [
  ["sync handler", echo],
  ["async handler", asyncEcho],
] as const;
