// What every bench server answers besides its WebSockets, routed on the URL string (no URL parsed
// per upgrade, so no server pays for routing the others skip): /rss, /cpu (CPU time used so far,
// all threads, µs, then the full GCs counted so far, "-" where the runtime cannot tell), /count
// (connections opened and closed as the server's handlers saw them: the scale figure checks every
// close), and for bench/memory the heap after a full GC (/heap) and heap snapshots
// (/snapshot?file=...). GC needs node --expose-gc or deno --v8-flags=--expose-gc; Bun has Bun.gc.
import { constants, PerformanceObserver } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";

export const counters = { opened: 0, closed: 0 };

// V8 compiles typed-array loops (ws' JavaScript unmask of every client frame) tighter while no
// ArrayBuffer in the process has ever been detached; the first byte-stream read does detach one
// (undici's Response body, Node's fetch), for good. Without bufferutil that made the 64 KiB echo's
// unmask ~1.7x slower on every Node server whose answer to the client's own /cpu request went
// through a Response body (raw, crossws, wsloop) but not on @hono/node-server (string bodies
// written without a stream). Every Node server starts in the state any app reaches the first time
// it reads a body, so the harness no longer decides which servers get the faster code.
const onNode = !("Bun" in globalThis) && !("Deno" in globalThis);
if (onNode) {
  const detached = new ArrayBuffer(1);
  structuredClone(detached, { transfer: [detached] });
}

// Full (mark-compact) GCs so far, on Node: a CPU figure can move with when the heap a server
// carries gets collected, not with the work per message, and the count beside it tells which.
// Bun and Deno report no GC entries.
let fullGcs = 0;
if (onNode)
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // Node's GC entries carry their kind in `detail` (not in Bun's types: it reports none).
      const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++;
    }
  }).observe({ entryTypes: ["gc"] });

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

/** The path and query of a request URL, or of Node's `req.url` (which is only that). */
const pathOf = (url: string) => (url.startsWith("/") ? url : url.slice(url.indexOf("/", url.indexOf("//") + 2)));

/** The answer for a diagnostics path, undefined for anything else (a WebSocket upgrade). */
export function diagnostics(url: string): Response | undefined {
  const path = pathOf(url);
  if (path === "/" || path.startsWith("/?")) return undefined;
  if (path === "/rss") return new Response(String(process.memoryUsage().rss));
  if (path === "/count") return Response.json(counters);
  if (path === "/cpu") {
    const { user, system } = process.cpuUsage();
    return new Response(`${user + system} ${onNode ? fullGcs : "-"}`);
  }
  if (path === "/heap") return Response.json(memory());
  if (path.startsWith("/snapshot")) {
    gc();
    const file = new URL(path, "http://localhost").searchParams.get("file") ?? undefined;
    return new Response(writeHeapSnapshot(file));
  }
  return undefined;
}

/** Which broadcast a socket joins: ?sub=topic (wsloop's topic selectors), ?sub=frame (the fast path), none. */
export const subOf = (url: string): "topic" | "frame" | null =>
  url.includes("sub=topic") ? "topic" : url.includes("sub") ? "frame" : null;
