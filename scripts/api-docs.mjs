// The API reference: deno doc's HTML for every entry point, with imports shown as npm users write
// them and no warnings. Used by scripts/docs.mjs, which puts it at site/api.
//
// deno doc runs in a scratch directory, for two reasons:
// - It writes each page's "Usage" import from the export keys of the deno.json it runs under: the
//   repository's (".", "./node", the JSR layout) gives `from "."` and `from "node"`, which no user
//   can write. The scratch deno.json names the entry points "./wsloop", "./wsloop/node", …
// - deno 2.9 looks up `/// <reference path="zlib.d.ts" />` (no "./") as a package, which @types/node
//   does 60 times (denoland/deno#36751, fixed in deno_graph but not released), and cannot resolve
//   ambient modules such as "bun:ffi" or "node:sea". Each is a warning about someone else's types.
//   The scratch node_modules holds declaration-only copies of the packages on those paths (deno
//   resolves through real paths, so a symlinked package would reach the unpatched @types/node),
//   with "./" added to the references and the ambient imports pointed at the files declaring them.
//   The pages are byte-for-byte the ones deno doc writes from the untouched packages.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

// Packages on a path from src/ to @types/node: crossws' and wsloop's own `import … from "bun"`,
// node-redis, ws' types and undici-types (via /// <reference types="node" />).
const copied = ["@types/node", "@types/bun", "@types/ws", "bun-types", "crossws", "redis", "@redis", "ws", "undici-types"];

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function rewrite(file, edit) {
  const text = readFileSync(file, "utf8");
  const changed = edit(text);
  if (changed !== text) writeFileSync(file, changed);
}

/** node_modules for deno doc: symlinks, and patched declaration-only copies of `copied`. */
function sandboxModules(scratch) {
  const from = join(root, "node_modules");
  const to = join(scratch, "node_modules");
  const scopes = new Set(copied.filter((name) => name.includes("/")).map((name) => name.split("/")[0]));
  for (const name of readdirSync(from)) {
    if (name === ".bin" || copied.includes(name)) continue;
    if (!scopes.has(name)) {
      symlinkSync(join(from, name), join(to, name));
      continue;
    }
    for (const inner of readdirSync(join(from, name))) {
      if (!copied.includes(`${name}/${inner}`)) {
        mkdirSync(join(to, name), { recursive: true });
        symlinkSync(join(from, name, inner), join(to, name, inner));
      }
    }
  }
  const declaration = /(\.d\.[cm]?ts|package\.json)$/;
  for (const name of copied) {
    cpSync(join(from, name), join(to, name), {
      recursive: true,
      dereference: true,
      filter: (path) => (statSync(path).isDirectory() ? !path.endsWith("/docs") : declaration.test(path)),
    });
  }
  // Ambient modules deno cannot resolve, by the file that declares them.
  const ambient = new Map();
  for (const file of files(to).filter((file) => /\.d\.[cm]?ts$/.test(file))) {
    for (const [, name] of readFileSync(file, "utf8").matchAll(/^declare module "((?:bun:|node:sea)[\w/]*)"/gm))
      ambient.set(name, file);
  }
  for (const file of files(to).filter((file) => /\.d\.[cm]?ts$/.test(file))) {
    rewrite(file, (text) =>
      text
        .replace(/(\/\/\/ <reference path=")(?!\.\.?\/)/g, "$1./")
        .replace(/(import\(|from )"((?:bun:|node:sea)[\w/]*)"/g, (match, head, name) => {
          const target = ambient.get(name);
          if (!target) return match;
          const path = relative(dirname(file), target);
          return `${head}"${path.startsWith(".") ? path : `./${path}`}"`;
        }),
    );
  }
}

/**
 * A scratch directory where `deno doc` (and `deno doc --lint`, `--json`) runs over wsloop's entry
 * points without warnings, as described above. Run it with `cwd: sandbox.dir` and the entry
 * points of `sandbox.entries`; `sandbox.remove()` when done.
 */
export function createDocSandbox() {
  const { exports } = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "wsloop-docs-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    // Copied, not linked: deno resolves from a file's real path, which must be in the scratch.
    cpSync(join(root, "src"), join(dir, "src"), { recursive: true });
    writeFileSync(join(dir, "package.json"), readFileSync(join(root, "package.json")));
    mkdirSync(join(dir, "node_modules"));
    sandboxModules(dir);
    // "." too: its module doc is the index page (the usage keeps "wsloop", the other key).
    const npmExports = { ".": exports["."] };
    for (const [key, file] of Object.entries(exports)) npmExports[key === "." ? "./wsloop" : `./wsloop/${key.slice(2)}`] = file;
    writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual", exports: npmExports }));
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, entries: Object.values(exports), remove };
}

/** Writes the API reference into `output`. Returns deno doc's warnings (none expected). */
export function buildApiDocs(output) {
  const sandbox = createDocSandbox();
  try {
    rmSync(output, { recursive: true, force: true });
    mkdirSync(output, { recursive: true });
    const deno = join(root, "node_modules/.bin/deno");
    const args = ["doc", "--html", "--name=wsloop", `--output=${output}`, ...sandbox.entries];
    const result = spawnSync(deno, args, { cwd: sandbox.dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    if (result.status !== 0) throw new Error(`deno doc failed:\n${result.stderr}`);
    removeSourceLinks(output);
    unlinkMissingParents(output);
    // Besides "Written N files to …", everything deno doc says is a warning.
    return result.stderr.split("\n").filter((line) => line.trim() && !/^Written \d+ files to /.test(line));
  } finally {
    sandbox.remove();
  }
}

/**
 * deno doc links each symbol to its source file as a file:// URL, here inside the deleted scratch
 * directory: a link that leads nowhere for a reader (there is no public repository to point at yet).
 */
function removeSourceLinks(output) {
  const sourceButton = /<a\s+class="sourceButton"\s+href="file:[^"]*">[\s\S]*?<\/a>/g;
  for (const file of files(output).filter((file) => file.endsWith(".html")))
    rewrite(file, (text) => text.replace(sourceButton, ""));
}

/**
 * A property whose name has a dot (the type-only brands `"~wsloop.action"` and
 * `"~wsloop.connection"`) gets a breadcrumb `Action > ~wsloop > action` from deno doc, whose middle
 * link names a page deno doc does not write. Such a breadcrumb entry stays, as text.
 */
function unlinkMissingParents(output) {
  const breadcrumb = /<a href="([^"]*)" class="contextLink">([^<]*)<\/a>/g;
  for (const file of files(output).filter((file) => file.endsWith(".html"))) {
    const decode = (href) => href.replaceAll("&#x2F;", "/");
    rewrite(file, (text) =>
      text.replace(breadcrumb, (link, href, name) =>
        existsSync(join(dirname(file), decode(href))) ? link : `<span>${name}</span>`,
      ),
    );
  }
}
