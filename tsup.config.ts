import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    testing: "src/testing.ts",
    node: "src/adapters/node.ts",
    bun: "src/adapters/bun.ts",
    deno: "src/adapters/deno.ts",
    redis: "src/redis.ts",
    crossws: "src/adapters/crossws.ts",
    client: "src/client.ts",
    cloudflare: "src/cloudflare.ts",
  },
  format: ["esm"],
  target: "es2022",
  dts: true,
  // One shared chunk for the core, so every entry point sees the same Session and Action classes.
  splitting: true,
  clean: true,
  external: [/^crossws/, /^ws$/, /^redis$/, /^@opentelemetry\/api$/],
});
