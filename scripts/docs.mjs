// `npm run docs`: the API reference into docs/api with deno doc.
//
// deno doc writes each page's "Usage" import from the export keys of the deno.json it runs under:
// the repository's (".", "./node", the JSR layout) gives `from "."` and `from "node"`, which no
// user can write. So it runs in a scratch directory whose deno.json names the entry points as
// npm users import them ("./wsloop", "./wsloop/node", …), with src/ and node_modules linked in.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const { exports } = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const output = join(root, "docs/api");

const scratch = mkdtempSync(join(tmpdir(), "wsloop-docs-"));
try {
  symlinkSync(join(root, "src"), join(scratch, "src"));
  symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"));
  copyFileSync(join(root, "package.json"), join(scratch, "package.json"));
  // "." too: its module doc is the index page (the usage keeps "wsloop", the other key).
  const npmExports = { ".": exports["."] };
  for (const [key, file] of Object.entries(exports)) npmExports[key === "." ? "./wsloop" : `./wsloop/${key.slice(2)}`] = file;
  writeFileSync(join(scratch, "deno.json"), JSON.stringify({ nodeModulesDir: "manual", exports: npmExports }));
  rmSync(output, { recursive: true, force: true });
  mkdirSync(output, { recursive: true });
  const deno = join(root, "node_modules/.bin/deno");
  const args = ["doc", "--html", "--name=wsloop", `--output=${output}`, ...Object.values(exports)];
  const result = spawnSync(deno, args, { cwd: scratch, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  process.stdout.write(result.stdout);
  // @types/bun brings in @types/node, whose `/// <reference path="x.d.ts" />` lines deno doc looks
  // up as packages (denoland/deno#36751): one warning each, about Node's types, not wsloop's.
  const known =
    /^Warning Failed resolving types\. (Could not find package '[^']+' from referrer '[^']*@types\/node\/|\[ERR_UNSUPPORTED_ESM_URL_SCHEME\].*protocol 'bun')/;
  const lines = result.stderr.split("\n");
  const warnings = lines.filter((line) => line.startsWith("Warning"));
  const noise = warnings.filter((line) => known.test(line));
  const rest = lines.filter((line) => line.trim() && !known.test(line) && !/^\s+at /.test(line));
  if (rest.length > 0) process.stderr.write(`${rest.join("\n")}\n`);
  console.log(
    `docs: ${warnings.length} warnings, ${noise.length} of them about @types/node and bun-types, which deno doc misresolves (denoland/deno#36751)`,
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`docs: ${output}`);
