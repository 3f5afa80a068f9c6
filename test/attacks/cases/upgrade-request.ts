// The upgrade Request the app sees is the same on every runtime: the method as sent, and the scheme
// of the connection itself (a client's X-Forwarded-Proto must not turn http:// into https://).
// Node used to hand the app a GET for any method, and took the scheme from X-Forwarded-Proto.
import { expect, it } from "vitest";
import { open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { exchange, statusLine, upgradeHead } from "../wire.ts";

export function defineAttacks(runtime: Runtime, server: () => FixtureServer): void {
  it("refuses a POST upgrade as the others do, having shown the app a POST", async () => {
    const echo = `${server().ws}/ws/echo`;
    const refused = await exchange(echo, upgradeHead(echo, { method: "POST", headers: ["Content-Length: 0"] }), 3_000);
    // upgradeWebSocket's handshake check answers 400 to an upgrade that is not a GET (Deno's server itself, too).
    expect(statusLine(refused)).toMatch(/^HTTP\/1\.1 400 /);
    if (runtime !== "deno") {
      const seen = `${server().ws}/ws/seen`;
      const text = await exchange(seen, upgradeHead(seen, { method: "POST", headers: ["Content-Length: 0"] }), 3_000);
      expect(text).toContain(`seen:POST http://${new URL(seen).host}/ws/seen`);
    }
  });

  it("keeps the request's scheme when the client sends X-Forwarded-Proto: https", async () => {
    const client = await open(`${server().ws}/ws/echo?tag=proto`, undefined, { headers: { "X-Forwarded-Proto": "https" } });
    expect(await client.ask("url")).toBe(`url:GET ${server().http}/ws/echo?tag=proto`);
    client.socket.close();
    const seen = `${server().ws}/ws/seen`;
    const text = await exchange(seen, upgradeHead(seen, { headers: ["X-Forwarded-Proto: https"] }), 3_000);
    expect(text).toContain(`seen:GET ${server().http}/ws/seen`);
  });

  it("keeps the upgrade request's headers readable for as long as the socket is open", async () => {
    // Node's adapter drops the Headers it made for the handshake checks once the upgrade is accepted
    // (memory per connection): reading them later makes them again, with every header as sent.
    const client = await open(`${server().ws}/ws/echo?tag=headers`, undefined, {
      headers: { "X-Probe": "one", "X-Twice": ["a", "b"] as unknown as string },
    });
    expect(await client.ask("header:x-probe")).toBe("header:one");
    expect(await client.ask("header:x-twice")).toBe("header:a, b");
    expect(await client.ask("header:sec-websocket-version")).toBe("header:13");
    client.socket.close();
  });
}
