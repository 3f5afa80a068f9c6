// Every public export has TSDoc with an example: `deno doc --lint` checks the docs and types,
// this checks the examples. Run by `npm run check`.
import { execFileSync } from "node:child_process";
import { createDocSandbox } from "./api-docs.mjs";

const deno = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
// In the sandbox the API reference is built in: deno's warnings about @types/node internals
// (denoland/deno#36751) are gone there, so any warning left is ours.
const sandbox = createDocSandbox();
const { entries } = sandbox;
let json;
try {
  const options = { cwd: sandbox.dir, env: { ...process.env, NO_COLOR: "1" } };
  execFileSync(deno, ["doc", "--lint", ...entries], { ...options, stdio: "inherit" });
  json = execFileSync(deno, ["doc", "--json", ...entries], { ...options, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
} finally {
  sandbox.remove();
}
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
