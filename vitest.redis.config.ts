import { defineConfig } from "vitest/config";

// `npm run test:redis`: wsloop/redis against a real redis-server. One file at a time: they share it.
export default defineConfig({
  test: {
    include: ["test/redis/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
