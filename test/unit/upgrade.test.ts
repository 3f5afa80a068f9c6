import { describe, expect, it } from "vitest";
import { lendMarker, takeUpgrade, upgradeMarker } from "../../src/core/upgrade.ts";
import { type Connection, continueConnection, isWebSocketUpgrade, upgradeWebSocket } from "../../src/index.ts";
import { upgradeRequest as bareUpgradeRequest, connect } from "../../src/testing.ts";

/** An upgrade request as a client sends it, Host included (upgradeWebSocket refuses one without). */
function upgradeRequest(url = "http://localhost/", init: Parameters<typeof bareUpgradeRequest>[1] = {}): Request {
  const headers = new Headers(init.headers);
  if (!headers.has("host")) headers.set("host", new URL(url).host);
  return bareUpgradeRequest(url, { ...init, headers });
}

/** An upgrade request with `changes` applied to its headers (null removes one). */
function withHeaders(changes: Record<string, string | null>, method = "GET"): Request {
  const headers = new Headers(upgradeRequest().headers);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  return new Request("http://localhost/", { method, headers });
}

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

  it("answers the marker an adapter lent, and the upgrade is taken off that request alone", () => {
    const marker = upgradeMarker();
    const first = upgradeRequest("http://localhost/?first");
    const second = upgradeRequest("http://localhost/?second");
    lendMarker(first, marker);
    lendMarker(second, marker);
    // One Response for every upgrade of the adapter (Bun: no native Response per connection).
    expect(upgradeWebSocket(first, handlers)).toBe(marker);
    expect(takeUpgrade(first, marker)?.request).toBe(first);
    // Answered for a request the app did not upgrade, it stands for nothing.
    expect(takeUpgrade(second, marker)).toBeUndefined();
    // Taken once, as a marker of its own is.
    expect(takeUpgrade(first, marker)).toBeUndefined();
    // A request the adapter did not lend it to (one the app rebuilt) gets a marker of its own.
    const rebuilt = new Request(second);
    lendMarker(second, marker);
    const own = upgradeWebSocket(rebuilt, handlers);
    expect(own).not.toBe(marker);
    expect(takeUpgrade(second, own)?.request).toBe(rebuilt);
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
    await expect(connect(fetch, upgradeRequest("http://localhost/ws"))).resolves.toBeDefined();
    await expect(connect(fetch, upgradeRequest("http://localhost/other"))).rejects.toThrow(/answered 404/);
  });

  describe("checks the opening handshake itself, the same on every runtime (RFC 6455 §4.2.1)", () => {
    const refused = (request: Request) => {
      const response = upgradeWebSocket(request, handlers);
      expect(takeUpgrade(request, response)).toBeUndefined();
      return response;
    };

    it("answers 400 to a missing or invalid Sec-WebSocket-Key", async () => {
      for (const key of [
        null,
        "",
        "abc",
        "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZQ=!",
        "dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ==",
      ]) {
        const response = refused(withHeaders({ "sec-websocket-key": key }));
        expect(response.status, String(key)).toBe(400);
        expect(await response.text()).toMatch(/Sec-WebSocket-Key/);
      }
      // Two keys arrive joined by a comma.
      const twice = new Headers(upgradeRequest().headers);
      twice.append("sec-websocket-key", "AAAAAAAAAAAAAAAAAAAAAA==");
      expect(refused(new Request("http://localhost/", { headers: twice })).status).toBe(400);
    });

    it("answers 400 to a missing Host", () => {
      expect(refused(withHeaders({ host: null })).status).toBe(400);
    });

    it("answers 400 to an upgrade that is not a GET, and keeps 426 for a request without Upgrade", () => {
      expect(refused(withHeaders({}, "POST")).status).toBe(400);
      expect(refused(withHeaders({}, "HEAD")).status).toBe(400);
      expect(refused(withHeaders({ upgrade: null })).status).toBe(426);
      expect(refused(withHeaders({ upgrade: "h2c" })).status).toBe(426);
    });

    it("answers 426 with Sec-WebSocket-Version: 13 to a missing or other version", () => {
      for (const version of [null, "8", "12", "14", "13, 8", "x"]) {
        const response = refused(withHeaders({ "sec-websocket-version": version }));
        expect(response.status, String(version)).toBe(426);
        expect(response.headers.get("sec-websocket-version")).toBe("13");
      }
    });

    it("accepts a valid handshake, whatever the case of its Upgrade token", () => {
      for (const request of [
        upgradeRequest(),
        withHeaders({ upgrade: "WebSocket", "sec-websocket-key": "AAAAAAAAAAAAAAAAAAAAAA==" }),
      ]) {
        expect(takeUpgrade(request, upgradeWebSocket(request, handlers))).toBeDefined();
      }
    });
  });
});

describe("allowedOrigins", () => {
  const from = (origin: string) => upgradeRequest("http://localhost/", { headers: { origin } });
  const status = (allowedOrigins: readonly string[], origin: string) => {
    const request = from(origin);
    const response = upgradeWebSocket(request, { ...handlers, allowedOrigins });
    return takeUpgrade(request, response) ? 101 : response.status;
  };

  it("compares origins, not strings: a trailing slash, a default port or upper case still match", () => {
    for (const entry of [
      "https://example.com",
      "https://example.com/",
      "https://example.com:443",
      "HTTPS://Example.COM/path?q",
    ]) {
      expect(status([entry], "https://example.com"), entry).toBe(101);
    }
    expect(status(["https://example.com"], "https://EXAMPLE.com")).toBe(101);
    expect(status(["http://localhost:8080"], "http://localhost:8080")).toBe(101);
  });

  it("still refuses other origins, other ports, other schemes and the opaque origin", () => {
    const allowed = ["https://example.com"];
    for (const origin of ["https://evil.example", "https://example.com:8443", "http://example.com", "null", "not a url"]) {
      expect(status(allowed, origin), origin).toBe(403);
    }
  });

  it("rejects an entry that is not an origin with a RangeError", () => {
    for (const entry of ["example.com", "", "*", "null", "file:///etc/passwd", "example.com:443"]) {
      expect(() => upgradeWebSocket(from("https://example.com"), { ...handlers, allowedOrigins: [entry] }), entry).toThrow(
        RangeError,
      );
    }
  });
});

describe("idleTimeout", () => {
  const withIdle = (idleTimeout: number) => {
    const request = upgradeRequest();
    return takeUpgrade(request, upgradeWebSocket(request, { ...handlers, idleTimeout }))?.limits.idleTimeout;
  };

  it("takes 0 to 2147483 s, the longest timer delay (2^31 - 1 ms)", () => {
    expect(withIdle(0)).toBe(0);
    expect(withIdle(2_147_483)).toBe(2_147_483);
  });

  it("rejects more with a RangeError, rather than a timer that overflows into a 1 ms interval", () => {
    // 100 days: the keepalive's interval (a quarter of it) passed 2^31 - 1 ms and fired every 1 ms.
    for (const idleTimeout of [2_147_484, 100 * 86_400, Number.POSITIVE_INFINITY, -1, Number.NaN]) {
      expect(() => withIdle(idleTimeout), String(idleTimeout)).toThrow(RangeError);
    }
  });
});
