// The matrix on Node 24 (npm run test:node-versions): the node24 package's binary runs the fixture.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { defineMatrix } from "../cases.ts";
import { startServer } from "../server.ts";

process.env.WSLOOP_TEST_NODE = fileURLToPath(new URL("./node_modules/node24/bin/node", import.meta.url));

it("runs the fixture on Node 24", async () => {
  const server = await startServer("node");
  try {
    expect(await (await fetch(`${server.http}/version`)).json()).toMatch(/^v24\./);
  } finally {
    await server.kill();
  }
});

defineMatrix("node");
