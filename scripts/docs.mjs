// `npm run docs`: the documentation site into site/ (git-ignored). VitePress builds the guides in
// docs/ (parts of them included from README.md), then deno doc writes the API reference into
// site/api (scripts/api-docs.mjs). Any warning from either fails the build, so one cannot creep in.
// Works offline: both tools come from node_modules.
import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { buildApiDocs } from "./api-docs.mjs";

const root = new URL("..", import.meta.url).pathname;
const site = join(root, "site");
const started = performance.now();

const vitepress = spawnSync(join(root, "node_modules/.bin/vitepress"), ["build", "docs"], {
  cwd: root,
  encoding: "utf8",
  env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
});
const output = `${vitepress.stdout}${vitepress.stderr}`;
if (vitepress.status !== 0) {
  process.stderr.write(output);
  process.exit(vitepress.status ?? 1);
}
// VitePress' warnings have no common form ("(!) Some chunks are larger…", "The language 'x' is
// not loaded…"): any line besides its progress report is one, and fails the build.
const progress =
  /^(\s*|\s*vitepress v[\d.]+|[-✓] (building client \+ server bundles|rendering pages)\.\.\.|build complete in [\d.]+s\.)$/;
const vitepressWarnings = stripVTControlCharacters(output)
  .split("\n")
  .filter((line) => !progress.test(line));

const apiWarnings = buildApiDocs(join(site, "api"));

const html = (dir) =>
  readdirSync(dir, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile() && entry.name.endsWith(".html"));
const pages = html(site).filter((entry) => !relative(site, entry.parentPath).startsWith("api"));
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `docs: ${pages.length} site pages and ${html(join(site, "api")).length} API pages in ${relative(root, site)}/ (${seconds} s)`,
);

const warnings = [...vitepressWarnings, ...apiWarnings];
if (warnings.length > 0) {
  console.error(`docs: ${warnings.length} warnings, and the site must build without any:\n${warnings.join("\n")}`);
  process.exit(1);
}
// Written last, and only for a build without warnings: the site's link test rebuilds when a
// source is newer than this.
writeFileSync(join(site, ".built"), `${new Date().toISOString()}\n`);
