// Adversarial review of the connection-setup changes (synchronous routing, Bun's direct upgrade):
// each case failed before the fix its commit names.
import { describe, expect, it } from "vitest";
import { createLoops } from "../../src/adapters/loops.ts";
import type { FetchHandler } from "../../src/adapters/types.ts";
import { type PendingUpgrade, takeUpgrade } from "../../src/core/upgrade.ts";
import { upgradeWebSocket } from "../../src/index.ts";
import { upgradeRequest } from "../../src/testing.ts";
import { idleHandlers } from "./helpers.ts";

/** What route answered: a Response's status, or 101 for an accepted upgrade. */
async function statusOf(outcome: Response | PendingUpgrade | PromiseLike<Response | PendingUpgrade>): Promise<number> {
  const settled = await outcome;
  return settled instanceof Response ? settled.status : 101;
}

describe("review: an app's fetch answering an upgrade with no Response, or an object that is not one", () => {
  it("gets 500 and onError, at once or later, never a throw nor an upgrade, and the place is given back", async () => {
    const errors: unknown[] = [];
    // A fetch written in JavaScript that forgot to return, or returned null; then one that upgrades.
    // An object that is not a Response passed for an accepted upgrade.
    const notOne = { status: 403 };
    const answers: unknown[] = [
      undefined,
      null,
      notOne,
      Promise.resolve(undefined),
      Promise.resolve(null),
      Promise.resolve(notOne),
    ];
    const app = (request: Request) => (answers.length > 0 ? answers.shift() : upgradeWebSocket(request, idleHandlers));
    const loops = createLoops(app as FetchHandler, {
      maxConnectionsPerIp: 1,
      onError: (error) => errors.push(error),
      canPing: true,
    });
    for (let i = 0; i < 6; i++) {
      let routed: ReturnType<typeof loops.route> | undefined;
      expect(() => {
        routed = loops.route(upgradeRequest(), "10.0.0.1");
      }).not.toThrow();
      expect(await statusOf(routed as ReturnType<typeof loops.route>)).toBe(500);
    }
    expect(errors).toHaveLength(6);
    for (const error of errors) expect(error).toBeInstanceOf(TypeError);
    // The client's only place was given back each time.
    expect(await statusOf(loops.route(upgradeRequest(), "10.0.0.1"))).toBe(101);
    expect(loops.stats().upgrades.refused).toEqual({ 500: 6 });
  });
});

describe("review: the same marker Response answered to two upgrades", () => {
  it("is taken once: the second request is not upgraded as the first", () => {
    const first = upgradeRequest("http://localhost/?first");
    const marker = upgradeWebSocket(first, idleHandlers);
    expect(takeUpgrade(first, marker)?.request).toBe(first);
    expect(takeUpgrade(upgradeRequest("http://localhost/?second"), marker)).toBeUndefined();
  });
});
