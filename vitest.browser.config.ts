import { defineConfig } from "vitest/config";

// `npm run test:browser`: the example page in headless Chromium (Debian package chromium).
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
