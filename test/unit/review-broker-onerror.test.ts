// createDurableBroker's onError, like every adapter's since guardOnError: one that throws is
// logged, and the broker goes on (retrying the subscription, publishing).
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDurableBroker } from "../../src/adapters/cloudflare-broker.ts";
import { continueConnection, upgradeWebSocket } from "../../src/index.ts";
import { connect } from "../../src/testing.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("review: createDurableBroker with an onError that throws", () => {
  it("keeps retrying a failed subscription, and publishes go on", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    let subscribeAttempts = 0;
    const namespace = {
      idFromName: (name: string) => name,
      get: () => ({
        async fetch(url: string): Promise<Response> {
          if (url.endsWith("/subscribe")) {
            subscribeAttempts++;
            throw new Error("the topic's object is unreachable");
          }
          return new Response(null, { status: 204 });
        },
      }),
    };
    const broker = createDurableBroker(namespace as never, {
      onError: () => {
        throw new Error("the app's onError fails");
      },
    });
    const app = (request: Request) =>
      upgradeWebSocket(request, {
        dependencies: null,
        onInit: (connection): [number] => {
          broker.join(connection, "room");
          return [0];
        },
        onMessage: (state: number) => continueConnection(state),
        onClose: () => {},
      });
    const socket = await connect(app);
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Before: the throw skipped the retry (one attempt), and left a rejected subscription behind
    // that every later publish waited on: each publish rejected with the onError's error.
    expect(subscribeAttempts).toBeGreaterThan(1);
    await expect(broker.publishFrame("room", "hello")).resolves.toBeUndefined();
    expect(logged.mock.calls.some(([text]) => String(text).includes("onError failed"))).toBe(true);
    socket.close();
    await broker.close();
  });
});
