// Diagnostics for bench/memory: heap after a full GC, and heap snapshots, on whichever runtime
// runs the server (Node needs --expose-gc, Deno --v8-flags=--expose-gc; Bun has Bun.gc).
import { writeHeapSnapshot } from "node:v8";

const gc = (): void => {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) bun.gc(true);
  else (globalThis as { gc?: () => void }).gc?.();
};

const memory = (): { rss: number; heapUsed: number; heapTotal: number; external: number } => {
  for (let i = 0; i < 3; i++) gc();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
};

/** The answer for /heap (GC, then RSS and heap used) and /snapshot?file=..., or undefined for other paths. */
export function probe(url: URL): Response | undefined {
  if (url.pathname === "/heap") return Response.json(memory());
  if (url.pathname === "/snapshot") {
    gc();
    return new Response(writeHeapSnapshot(url.searchParams.get("file") ?? undefined));
  }
  return undefined;
}
