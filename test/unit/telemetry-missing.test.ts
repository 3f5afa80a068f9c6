// telemetry: true where @opentelemetry/api is not installed: createBunHandlers and createDenoHandler
// (whose callers need not await `ready`) report it to onError instead of an unhandled rejection.
import { expect, it, vi } from "vitest";
import { createLoops } from "../../src/adapters/loops.ts";

vi.mock("@opentelemetry/api", () => {
  throw new Error("Cannot find package '@opentelemetry/api'");
});

it("a server without @opentelemetry/api reports telemetry: true to onError, and leaves no rejection unhandled", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const errors: unknown[] = [];
    const loops = createLoops(() => new Response(null, { status: 404 }), {
      telemetry: true,
      canPing: true,
      onError: (error) => errors.push(error),
    });
    // What createBunHandlers / createDenoHandler hand back as `ready`, which their callers may never read.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
    expect(String(errors[0])).toMatch(/needs @opentelemetry\/api/);
    // Who awaits it (serve) still sees why.
    await expect(loops.ready).rejects.toThrow(/needs @opentelemetry\/api/);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});
