// attach() on a host server (Node only): it takes only the WebSocket upgrades its filter accepts,
// leaves other upgrades (h2c) and other 'upgrade' listeners (socket.io, Vite HMR) alone, and
// answers late upgrades after close() with 503.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { attach } from "../../src/adapters/node.ts";
import { continueConnection, sendText, upgradeWebSocket } from "../../src/index.ts";
import { exchange, statusLine, upgradeHead } from "../attacks/wire.ts";
import { open } from "../matrix/client.ts";

const echo = (request: Request): Response =>
  upgradeWebSocket(request, {
    dependencies: {},
    onInit: () => [0] as const,
    onMessage: (state, message, connection) => {
      if (message.type === "text") sendText(connection, `wsloop:${message.text}`);
      return continueConnection(state);
    },
    onClose: () => {},
  });

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A host server whose plain requests answer `host:METHOD PATH`. */
async function host(): Promise<{ server: Server; ws: string }> {
  server = createServer((req, res) => res.end(`host:${req.method} ${req.url}`));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { server, ws: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("attach", () => {
  it("leaves an h2c upgrade to the host's request handler", async () => {
    const { server, ws } = await host();
    attach(server, echo);
    const head = [
      "GET /page HTTP/1.1",
      "Host: x",
      "Connection: Upgrade, HTTP2-Settings",
      "Upgrade: h2c",
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
    ];
    const text = await exchange(ws, `${head.join("\r\n")}\r\n\r\n`, 3_000);
    expect(statusLine(text)).toBe("HTTP/1.1 200 OK");
    expect(text).toContain("host:GET /page");
  });

  it("shares the server with another 'upgrade' listener through its filter", async () => {
    const { server, ws } = await host();
    const other = new WebSocketServer({ noServer: true });
    other.on("connection", (socket) => socket.on("message", (data) => socket.send(`other:${data}`)));
    server.on("upgrade", (req, socket, head) => {
      if (req.url?.startsWith("/other"))
        other.handleUpgrade(req, socket, head, (client) => other.emit("connection", client, req));
    });
    const attached = attach(server, echo, { filter: (request) => new URL(request.url).pathname.startsWith("/ws") });
    const mine = await open(`${ws}/ws`);
    const theirs = await open(`${ws}/other`);
    expect(await mine.ask("a")).toBe("wsloop:a");
    expect(await theirs.ask("b")).toBe("other:b");
    mine.socket.close();
    theirs.socket.close();
    // Once wsloop closed, its own paths get 503 and the other handler's still work.
    await attached.close();
    expect(statusLine(await exchange(`${ws}/ws`, upgradeHead(`${ws}/ws`), 3_000))).toBe("HTTP/1.1 503 Service Unavailable");
    const later = await open(`${ws}/other`);
    expect(await later.ask("c")).toBe("other:c");
    later.socket.close();
    other.close();
  });

  it("hands a WebSocket upgrade its filter declines to the request handler when no other listener takes it", async () => {
    const { server, ws } = await host();
    attach(server, echo, { filter: () => false });
    const text = await exchange(`${ws}/declined`, upgradeHead(`${ws}/declined`), 3_000);
    expect(statusLine(text)).toBe("HTTP/1.1 200 OK");
    expect(text).toContain("host:GET /declined");
  });

  it("answers upgrades after close() with 503, never the marker response", async () => {
    const { server, ws } = await host();
    const attached = attach(server, echo);
    const client = await open(`${ws}/ws`);
    const closed = client.closed;
    await attached.close();
    expect((await closed).code).toBe(1001);
    const text = await exchange(`${ws}/ws`, upgradeHead(`${ws}/ws`), 3_000);
    expect(statusLine(text)).toBe("HTTP/1.1 503 Service Unavailable");
    expect(text).not.toContain("wsloop adapter");
  });

  it("reports a socket another 'upgrade' listener took already to onError and keeps serving", async () => {
    const { server, ws } = await host();
    // A misconfigured host: a listener ahead of wsloop's takes every upgrade, wsloop's filter too.
    const other = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => other.handleUpgrade(req, socket, head, () => {}));
    const errors: unknown[] = [];
    attach(server, echo, { onError: (error) => errors.push(error) });
    await exchange(`${ws}/ws`, upgradeHead(`${ws}/ws`), 500);
    // Before, crossws' own copy of ws did not see the other's mark and answered a second handshake on the socket.
    expect(String(errors[0])).toMatch(/handleUpgrade\(\) was called more than once/);
    const text = await exchange(`${ws}/page`, "GET /page HTTP/1.1\r\nHost: x\r\n\r\n", 1_000);
    expect(text).toContain("host:GET /page");
    other.close();
  });
});
