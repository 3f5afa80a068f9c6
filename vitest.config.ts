import { defineConfig } from "vitest/config";

// `npm test`: the unit tests, the cross-runtime matrix, the examples, the recipes and README's code. Redis and the browser
// have their own configs (vitest.redis.config.ts, vitest.browser.config.ts).
export default defineConfig({
  test: {
    include: [
      "test/unit/**/*.test.ts",
      "test/matrix/**/*.test.ts",
      "test/attacks/**/*.test.ts",
      "test/node/**/*.test.ts",
      "test/examples/**/*.test.ts",
      "test/recipes/**/*.test.ts",
      "test/docs/**/*.test.ts",
      "test/cloudflare/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
