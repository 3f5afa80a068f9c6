// Runs a Worker module on workerd, locally and without network, through miniflare: the TypeScript
// entry is bundled by esbuild (as wrangler would), then served on 127.0.0.1. The tests use it too.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { pageScriptsModule } from "./page-scripts.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The compatibility date of wrangler.jsonc, and of the tests. */
export const COMPATIBILITY_DATE = "2026-04-20";

export interface Workerd {
  readonly mf: Miniflare;
  readonly http: string;
  readonly ws: string;
  dispose(): Promise<void>;
}

/** Bundles `entry` (relative to the repository) and serves it; `durableObjects` maps bindings to exported classes. */
export async function startWorkerd(entry: string, durableObjects: Record<string, string>, port = 0): Promise<Workerd> {
  const dir = mkdtempSync(join(tmpdir(), "wsloop-workerd-"));
  const script = join(dir, "worker.js");
  await build({
    entryPoints: [join(root, entry)],
    outfile: script,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["cloudflare:*"],
    logLevel: "error",
    plugins: [
      {
        name: "page-scripts",
        setup(build) {
          build.onResolve({ filter: /^wsloop-example:page-scripts$/ }, ({ path }) => ({ path, namespace: "page-scripts" }));
          build.onLoad({ filter: /.*/, namespace: "page-scripts" }, () => ({ contents: pageScriptsModule(), loader: "js" }));
        },
      },
    ],
  });
  const mf = new Miniflare({
    modules: true,
    modulesRoot: dir,
    scriptPath: script,
    compatibilityDate: COMPATIBILITY_DATE,
    durableObjects,
    host: "127.0.0.1",
    port,
  });
  const url = await mf.ready;
  const http = url.href.replace(/\/$/, "");
  return {
    mf,
    http,
    ws: http.replace(/^http/, "ws"),
    async dispose() {
      await mf.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
