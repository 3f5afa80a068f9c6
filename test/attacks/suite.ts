// The attack suite: bounded, loopback-only attacks against the fixture app on each runtime. Every
// file in ./cases exports `defineAttacks(runtime, server)`; this runs them all against one server
// per runtime, and after them checks that the server is still up and answering.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open } from "../matrix/client.ts";
import { type FixtureServer, type Runtime, startServer } from "../matrix/server.ts";

type Attacks = { defineAttacks(runtime: Runtime, server: () => FixtureServer): void };

const cases = (import.meta as unknown as { glob(pattern: string, options: { eager: true }): Record<string, Attacks> }).glob(
  "./cases/*.ts",
  { eager: true },
);

export function defineAttackSuite(runtime: Runtime): void {
  describe(`attacks on ${runtime}`, () => {
    let server: FixtureServer;
    beforeAll(async () => {
      server = await startServer(runtime);
    });
    afterAll(async () => {
      await server?.kill();
      if (process.env.FIXTURE_LOG) console.log(server?.output());
    });

    for (const [file, attacks] of Object.entries(cases)) {
      describe(file.replace(/^\.\/cases\/|\.ts$/g, ""), () => attacks.defineAttacks(runtime, () => server));
    }

    it("leaves the server up and echoing", async () => {
      const client = await open(`${server.ws}/ws/echo`);
      expect(await client.ask("still here")).toBe("still here");
      client.socket.close();
    });
  });
}
