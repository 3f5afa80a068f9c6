// Every public export has TSDoc with an example: `deno doc --lint` checks the docs and types,
// this checks the examples. Run by `npm run check`.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const deno = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
const entries = Object.values(JSON.parse(readFileSync(new URL("../deno.json", import.meta.url), "utf8")).exports);
execFileSync(deno, ["doc", "--lint", ...entries], { stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
// Its warnings about @types/node internals are noise here.
const json = execFileSync(deno, ["doc", "--json", ...entries], {
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
  stdio: ["ignore", "pipe", "ignore"],
});
const doc = JSON.parse(json);
const missing = [];
for (const [module, { symbols }] of Object.entries(doc.nodes)) {
  for (const symbol of symbols) {
    const declaration = symbol.declarations[0];
    if (declaration.kind === "reference" || declaration.kind === "import") continue;
    const jsDoc = declaration.jsDoc ?? {};
    const example = (jsDoc.tags ?? []).some((tag) => tag.kind === "example") || (jsDoc.doc ?? "").includes("```");
    if (!example) missing.push(`${module.replace(/^file:\/\/.*?\/src\//, "src/")}: ${symbol.name}`);
  }
}
if (missing.length > 0) {
  console.error(`Public exports without an @example:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
console.log(`docs: every public export of ${entries.length} entry points has TSDoc with an example`);
