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
