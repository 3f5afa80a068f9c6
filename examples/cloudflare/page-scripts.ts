// The chat page's scripts for the Worker, which has no file system: the page's own (examples/shared/
// chat.js) and wsloop/client as the build made it (dist/client.js), as one module of strings. The
// Worker imports it as "wsloop-example:page-scripts"; workerd.ts resolves that name when it
// bundles, and `wrangler dev` through the alias in wrangler.jsonc, after its build command ran
// `node --import tsx page-scripts.ts` (which writes .page-scripts.js next to this file).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The module's source: a default export mapping each script's path to its text. */
export function pageScriptsModule(): string {
  const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
  const scripts: Record<string, string> = { "/chat.js": read("../shared/chat.js") };
  try {
    scripts["/client.js"] = read("../../dist/client.js");
  } catch {
    console.warn("dist/client.js is missing: run `npm run build`, or the chat page cannot connect");
  }
  return `export default ${JSON.stringify(scripts)};\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL("./.page-scripts.js", import.meta.url), pageScriptsModule());
}
