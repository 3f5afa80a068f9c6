// The server's unfinished sessions, linked through the sessions themselves: what stats and close() walk.
import { describe, expect, it } from "vitest";
import { LiveSessions } from "../../src/adapters/live-sessions.ts";
import type { Transport } from "../../src/core/connection.ts";
import { Session } from "../../src/core/session.ts";
import { takeUpgrade } from "../../src/core/upgrade.ts";
import { upgradeWebSocket } from "../../src/index.ts";
import { upgradeRequest } from "../../src/testing.ts";

const transport: Transport = { bufferedAmount: 0, send: () => true, close: () => {}, terminate: () => {} };

function session(): Session {
  const request = upgradeRequest("http://localhost/", { headers: { host: "localhost" } });
  const options = { dependencies: null, onInit: (): [null] => [null], onMessage: () => undefined as never, onClose: () => {} };
  const pending = takeUpgrade(request, upgradeWebSocket(request, options));
  if (!pending) throw new Error("not upgraded");
  return new Session(pending, transport);
}

describe("LiveSessions", () => {
  it("holds each session once, forgets any in any order, and ignores one it does not hold", () => {
    const sessions = new LiveSessions();
    const [a, b, c, d] = [session(), session(), session(), session()];
    for (const s of [a, b, c, a]) sessions.add(s);
    expect(sessions.size).toBe(3);
    expect([...sessions]).toEqual([c, b, a]);
    sessions.delete(d);
    sessions.delete(b);
    sessions.delete(b);
    expect(sessions.size).toBe(2);
    expect([sessions.has(a), sessions.has(b), sessions.has(c), sessions.has(d)]).toEqual([true, false, true, false]);
    sessions.delete(c);
    expect([...sessions]).toEqual([a]);
    sessions.delete(a);
    expect(sessions.size).toBe(0);
    expect([...sessions]).toEqual([]);
    expect(sessions.has(a)).toBe(false);
    // One that left may come back.
    sessions.add(b);
    expect([...sessions]).toEqual([b]);
  });
});
