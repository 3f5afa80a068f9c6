// An endpoint's onError that rejects (an async onError): logged, as one that throws is, never an
// unhandled rejection (which ends a Node process).
import { afterEach, describe, expect, it, vi } from "vitest";
import { upgradeWebSocket } from "../../src/index.ts";
import { connect } from "../../src/testing.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("review: an endpoint onError that rejects", () => {
  it("is logged, not left an unhandled rejection", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const app = (request: Request) =>
        upgradeWebSocket(request, {
          dependencies: null,
          onInit: (): [number] => [0],
          onMessage: (): never => {
            throw new Error("the handler fails");
          },
          onClose: () => {},
          onError: async () => {
            throw new Error("the onError rejects");
          },
        });
      const socket = await connect(app);
      socket.sendText("boom");
      await socket.settled();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(socket.closedByServer?.code).toBe(1011);
      expect(unhandled).toEqual([]);
      expect(logged.mock.calls.some(([text]) => String(text).includes("onError"))).toBe(true);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
