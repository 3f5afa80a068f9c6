// Adversarial review of flow control, rate limits and stats (issue 18): each case failed before its fix.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Connection, continueConnection, type Message, sendText, upgradeWebSocket } from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

describe("review: rate limit", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a wall clock set back (NTP) does not put the bucket in debt for as long as it went back", async () => {
    const socket = await connect<null>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (): [null] => [null],
        onMessage: (state: null, message: Message<never>, connection: Connection) => {
          if (message.type === "text") sendText(connection, message.text);
          return continueConnection(state);
        },
        onClose: () => {},
        idleTimeout: 0,
        rateLimit: { messagesPerSecond: 10, messageBurst: 10 },
      }),
    );
    socket.sendText("1");
    vi.setSystemTime(Date.now() - 3_600_000);
    socket.sendText("2");
    await socket.settled();
    expect(socket.texts()).toEqual(["1", "2"]);
    expect(socket.closedByServer).toBeUndefined();
  });
});
