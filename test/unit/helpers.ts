// Handler sets the unit tests share.
import { type Connection, continueConnection, type Message, type UpgradeOptions, upgradeWebSocket } from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

/** Handlers that do nothing: for tests of upgradeWebSocket's options and checks. */
export const idleHandlers = {
  dependencies: null,
  onInit: (): [null] => [null],
  onMessage: (s: null) => continueConnection(s),
  onClose: () => {},
};

/** An in-memory connection whose Connection the test keeps, to call sendText & co. on it. */
export async function openKeepingConnection(options: Partial<UpgradeOptions<null, never, null>> = {}) {
  let connection!: Connection;
  const socket = await connect(
    upgradeWebSocket(upgradeRequest(), {
      dependencies: null,
      onInit: (c: Connection): [null] => {
        connection = c;
        return [null];
      },
      onMessage: (s: null, _m: Message<never>) => continueConnection(s),
      onClose: () => {},
      ...options,
    }),
  );
  await socket.settled();
  return { socket, connection };
}

/** A connection whose async handler waits for `release()` on each message; texts of one character weigh 259 bytes queued. */
export async function gated(options: Partial<UpgradeOptions<null, never, null>> = {}) {
  const gates: (() => void)[] = [];
  const handled: string[] = [];
  const socket = await connect<null>(
    upgradeWebSocket(upgradeRequest(), {
      dependencies: null,
      onInit: (): [null] => [null],
      onMessage: async (state: null, message: Message<never>) => {
        if (message.type === "text") {
          await new Promise<void>((resolve) => gates.push(resolve));
          handled.push(message.text);
        }
        return continueConnection(state);
      },
      onClose: () => {},
      idleTimeout: 0,
      pauseReadingAt: 2000,
      resumeReadingAt: 1000,
      ...options,
    }),
  );
  // Microtasks only, so that it also works under fake timers: the next message is in the handler after.
  const release = async () => {
    gates.shift()?.();
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  // openGate: lets the handler of the message at the gate return, without waiting for it.
  return { socket, handled, release, openGate: () => gates.shift()?.(), waiting: () => gates.length };
}
