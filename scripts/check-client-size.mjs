// wsloop/client's size budget: the entry bundled and minified by esbuild, then gzipped, must stay
// within BUDGET bytes; and the built dist/client.js must be one file (no imports), as a browser
// loads it from a plain <script type="module">. Run by `npm run check` after the build.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { buildSync } from "esbuild";

const BUDGET = 3 * 1024;
const { outputFiles } = buildSync({
  entryPoints: [new URL("../src/client.ts", import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  write: false,
});
const minified = outputFiles[0].contents;
const gzipped = gzipSync(minified, { level: 9 }).length;
const built = readFileSync(new URL("../dist/client.js", import.meta.url), "utf8");
const imports = built.match(/^\s*(import|export)\b.*\bfrom\s*["'][^"']+["']/gm) ?? [];
if (imports.length > 0) {
  console.error(`dist/client.js imports other files, a browser cannot load it alone:\n  ${imports.join("\n  ")}`);
  process.exit(1);
}
const line = `wsloop/client: ${minified.length} B minified, ${gzipped} B min+gzip (budget ${BUDGET} B); dist/client.js is one file`;
if (gzipped > BUDGET) {
  console.error(`${line}: OVER BUDGET`);
  process.exit(1);
}
console.log(line);
