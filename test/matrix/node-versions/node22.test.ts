// The matrix on Node 22 (npm run test:node-versions): the node22 package's binary runs the fixture.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { defineMatrix } from "../cases.ts";
import { startServer } from "../server.ts";

process.env.WSLOOP_TEST_NODE = fileURLToPath(new URL("./node_modules/node22/bin/node", import.meta.url));

it("runs the fixture on Node 22", async () => {
  const server = await startServer("node");
  try {
    expect(await (await fetch(`${server.http}/version`)).json()).toMatch(/^v22\./);
  } finally {
    await server.kill();
  }
});

defineMatrix("node");
