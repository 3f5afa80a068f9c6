// The server's open sockets, linked through their transports: what close() waits for and drops.
import { describe, expect, it } from "vitest";
import { type OpenSocket, OpenSockets } from "../../src/adapters/open-sockets.ts";

/** A transport whose terminate reports its close at once, as a runtime may. */
function socket(sockets: OpenSockets, terminated: string[], name: string): OpenSocket {
  const self: OpenSocket = {
    openPrev: undefined,
    openNext: undefined,
    bufferedAmount: 0,
    send: () => true,
    close: () => {},
    terminate: () => {
      terminated.push(name);
      sockets.delete(self);
    },
  };
  return self;
}

describe("OpenSockets", () => {
  it("holds each socket once, forgets any in any order, and ignores one it does not hold", async () => {
    const sockets = new OpenSockets();
    const terminated: string[] = [];
    const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => socket(sockets, terminated, name)) as [
      OpenSocket,
      OpenSocket,
      OpenSocket,
      OpenSocket,
    ];
    for (const s of [a, b, c, a]) sockets.add(s);
    sockets.delete(d);
    sockets.delete(b);
    sockets.delete(b);
    sockets.terminateAll();
    expect(terminated.sort()).toEqual(["a", "c"]);
    // Every socket reported its close: nothing left to wait for.
    await sockets.drained(60_000);
    sockets.add(b);
    sockets.delete(b);
    await sockets.drained(60_000);
  });

  it("resolves drained once the last socket closes, and only then", async () => {
    const sockets = new OpenSockets();
    const terminated: string[] = [];
    const [a, b] = ["a", "b"].map((name) => socket(sockets, terminated, name)) as [OpenSocket, OpenSocket];
    sockets.add(a);
    sockets.add(b);
    let done = false;
    const drained = sockets.drained(60_000).then(() => {
      done = true;
    });
    sockets.delete(b);
    await Promise.resolve();
    expect(done).toBe(false);
    sockets.delete(a);
    await drained;
    expect(done).toBe(true);
  });

  it("keeps the others when a terminate closes a different socket than its own", () => {
    const sockets = new OpenSockets();
    const terminated: string[] = [];
    const [a, b, c] = ["a", "b", "c"].map((name) => socket(sockets, terminated, name)) as [OpenSocket, OpenSocket, OpenSocket];
    for (const s of [a, b, c]) sockets.add(s);
    // c (added last, walked first) takes b down with it: a is still terminated.
    c.terminate = () => {
      terminated.push("c");
      sockets.delete(c);
      sockets.delete(b);
    };
    sockets.terminateAll();
    expect(terminated.sort()).toEqual(["a", "b", "c"]);
  });
});
