import { describe, expect, it } from "vitest";
import { takeUpgrade } from "../../src/core/upgrade.ts";
import { type Connection, continueConnection, isWebSocketUpgrade, upgradeWebSocket } from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

const handlers = {
  dependencies: null,
  onInit: (): [number] => [0],
  onMessage: (s: number) => continueConnection(s),
  onClose: () => {},
};

describe("upgradeWebSocket", () => {
  it("answers 426 with a clear body to a request that is not a WebSocket upgrade", async () => {
    const request = new Request("http://localhost/ws");
    const response = upgradeWebSocket(request, handlers);
    expect(response.status).toBe(426);
    expect(response.headers.get("upgrade")).toBe("websocket");
    expect(await response.text()).toMatch(/only accepts WebSocket connections/);
    expect(takeUpgrade(request, response)).toBeUndefined();
  });

  it("marks the Response of a valid upgrade for an adapter to take", () => {
    const request = upgradeRequest("http://localhost/ws");
    const response = upgradeWebSocket(request, handlers);
    const pending = takeUpgrade(request, response);
    expect(pending?.request).toBe(request);
    expect(pending?.limits.maxMessageSize).toBe(16 * 1024 * 1024);
  });

  it("finds the upgrade through the request when middleware rebuilt the 426 Response", () => {
    const request = upgradeRequest();
    const rebuilt = new Response("copied", upgradeWebSocket(request, handlers));
    expect(takeUpgrade(request, rebuilt)).toBeDefined();
    expect(takeUpgrade(request, new Response("no", { status: 403 }))).toBeUndefined();
  });

  it("recognises upgrade requests by method and Upgrade header", () => {
    expect(isWebSocketUpgrade(upgradeRequest())).toBe(true);
    expect(isWebSocketUpgrade(new Request("http://x/", { headers: { upgrade: "WebSocket" } }))).toBe(true);
    expect(isWebSocketUpgrade(new Request("http://x/", { headers: { upgrade: "h2c" } }))).toBe(false);
    expect(isWebSocketUpgrade(new Request("http://x/", { method: "POST", headers: { upgrade: "websocket" } }))).toBe(false);
  });

  it("chooses the first offered subprotocol the endpoint supports, and none when none match", async () => {
    const offer = (protocols: string[]) => upgradeRequest("http://x/", { protocols });
    const options = { ...handlers, protocols: ["chat.v2", "chat.v1"] };
    expect((await connect(upgradeWebSocket(offer(["chat.v1", "chat.v2"]), options))).connection.protocol).toBe("chat.v1");
    expect((await connect(upgradeWebSocket(offer(["other"]), options))).connection.protocol).toBe("");
    expect((await connect(upgradeWebSocket(offer(["chat.v1"]), handlers))).connection.protocol).toBe("");
  });

  it("rejects limits that are not positive numbers", () => {
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, maxMessageSize: 0 })).toThrow(RangeError);
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, maxBufferedAmount: Number.NaN })).toThrow(RangeError);
  });

  it("gives each connection a distinct id and the upgraded request", async () => {
    const request = upgradeRequest("http://localhost/ws?user=ann");
    const seen: Connection[] = [];
    const options = {
      ...handlers,
      onInit: (c: Connection): [number] => {
        seen.push(c);
        return [0];
      },
    };
    await connect(upgradeWebSocket(request, options));
    await connect(upgradeWebSocket(upgradeRequest(), options));
    expect(seen[0]?.request).toBe(request);
    expect(seen[0]?.id).not.toBe(seen[1]?.id);
  });

  it("lets the harness call a fetch handler and refuses one that did not upgrade", async () => {
    const fetch = (request: Request) =>
      new URL(request.url).pathname === "/ws" ? upgradeWebSocket(request, handlers) : new Response("nope", { status: 404 });
    await expect(connect(fetch, "http://localhost/ws")).resolves.toBeDefined();
    await expect(connect(fetch, "http://localhost/other")).rejects.toThrow(/answered 404/);
  });
});
