// Every ```ts block of README.md and of the documentation site (docs/**/*.md, with the parts it
// includes from README) type-checks, as a reader would write it: `wsloop` and its entry points
// resolve to this package's sources, Node's blocks are checked by tsc with Node's types, Bun's
// with Bun's, Deno's by `deno check`. See test/docs/blocks.ts for the hidden `docs-context` and
// `docs-file` comments that declare what a fragment uses.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Block, checkedSource, extractBlocks, type Runtime, sourceLineOf } from "./blocks.ts";
import { type Expanded, expandIncludes } from "./includes.ts";

const root = join(import.meta.dirname, "../..");
const entries: Record<string, string> = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports;
const specifier = (entry: string) => (entry === "." ? "wsloop" : `wsloop/${entry.slice(2)}`);

/** A Markdown file and its blocks, checked in a directory of their own (`app.ts` differs per page). */
interface Doc {
  /** Relative to the repository, e.g. "docs/guide/loop.md". */
  path: string;
  expanded: Expanded;
  blocks: Block[];
}

const sitePages = readdirSync(join(root, "docs"), { recursive: true, encoding: "utf8" })
  .filter((path) => path.endsWith(".md") && !path.split("/").some((part) => part.startsWith(".") || part === "node_modules"))
  .sort()
  .map((path) => `docs/${path}`);
const docs: Doc[] = ["README.md", ...sitePages].map((path) => {
  const expanded = expandIncludes(join(root, path), root);
  return { path, expanded, blocks: extractBlocks(expanded.text) };
});

// The blocks live in directories that do not exist, so node_modules resolves as for the tests.
const virtualRoot = join(root, "test/docs/.blocks");
const dirOf = (doc: Doc) => join(virtualRoot, doc.path.replace(/\.md$/, ""));
const virtualFiles = new Map(
  docs.flatMap((doc) => doc.blocks.map((block) => [join(dirOf(doc), block.file), checkedSource(block)])),
);
const virtualDirs = new Set([...virtualFiles.keys()].flatMap((file) => ancestors(dirname(file))));

function ancestors(dir: string): string[] {
  return dir.length > virtualRoot.length ? [dir, ...ancestors(dirname(dir))] : [dir];
}

/** "docs/guide/loop.md:42", or where the context of a block is, for a line of its checked source. */
function where(doc: Doc, block: Block, sourceLine: number): string {
  const line = sourceLineOf(block, sourceLine);
  return line === undefined ? `the docs-context of ${doc.expanded.origin(block.line)}` : doc.expanded.origin(line);
}

const siteConfig = join(root, "docs/.vitepress/config.ts");
let configErrors: string[] | undefined;

function format(diagnostic: ts.Diagnostic): string {
  const at = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  const place = diagnostic.file && at ? `${relative(root, diagnostic.file.fileName)}:${at.line + 1}` : "?";
  return `${place}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
}

function tscErrors(runtime: Exclude<Runtime, "deno">): Map<Block | undefined, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    },
  );
  if (!config) throw new Error("tsconfig.json did not parse");
  const paths = Object.fromEntries(Object.entries(entries).map(([entry, file]) => [specifier(entry), [file]]));
  const options: ts.CompilerOptions = { ...config.options, types: [runtime], baseUrl: root, paths, noEmit: true };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  host.directoryExists = (dir) => virtualDirs.has(dir) || (directoryExists?.call(host, dir) ?? true);
  host.fileExists = (file) => virtualFiles.has(file) || fileExists.call(host, file);
  host.readFile = (file) => virtualFiles.get(file) ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const text = virtualFiles.get(file);
    return text === undefined ? getSourceFile.call(host, file, language, ...rest) : ts.createSourceFile(file, text, language);
  };
  const mine = docs.flatMap((doc) => doc.blocks.filter((block) => block.runtime === runtime).map((block) => ({ doc, block })));
  // The site's VitePress config is TypeScript too, outside tsconfig.json's files.
  const extra = runtime === "node" ? [siteConfig] : [];
  const program = ts.createProgram([...mine.map(({ doc, block }) => join(dirOf(doc), block.file)), ...extra], options, host);
  if (runtime === "node") {
    const source = program.getSourceFile(siteConfig);
    configErrors = source
      ? [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(format)
      : ["not loaded"];
  }
  const errors = new Map<Block | undefined, string[]>();
  for (const { doc, block } of mine) {
    const source = program.getSourceFile(join(dirOf(doc), block.file));
    if (!source) throw new Error(`${block.file} was not loaded`);
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    errors.set(
      block,
      diagnostics.map((diagnostic) => {
        const at = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        const place = diagnostic.file === source && at ? where(doc, block, at.line) : (diagnostic.file?.fileName ?? "?");
        return `${place}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
      }),
    );
  }
  return errors;
}

const denoDir = mkdtempSync(join(tmpdir(), "wsloop-docs-blocks-"));
afterAll(() => rmSync(denoDir, { recursive: true, force: true }));

/**
 * One `deno check` for every Deno block of every document (a deno start per block costs seconds).
 * Each document's blocks are written to a directory of its own; deno's errors name the file
 * ("at file:///…/FILE.ts:LINE:COL"), which says whose they are. Errors in no block's file are
 * returned under `undefined`.
 */
async function denoErrors(): Promise<Map<Block | undefined, string[]>> {
  const roots: string[] = [];
  const byFile = new Map<string, { doc: Doc; block: Block }>();
  for (const doc of docs) {
    const dir = join(denoDir, doc.path.replace(/\.md$/, ""));
    mkdirSync(dir, { recursive: true });
    // Every block is written, so a Deno block can import "./app.ts" like the others.
    for (const block of doc.blocks) {
      const file = join(dir, block.file);
      writeFileSync(file, checkedSource(block));
      byFile.set(file, { doc, block });
      if (block.runtime === "deno") roots.push(file);
    }
  }
  const imports = Object.fromEntries(
    Object.entries(entries).map(([entry, file]) => [specifier(entry), new URL(file, `file://${root}/`).href]),
  );
  const map = join(denoDir, "import_map.json");
  writeFileSync(map, JSON.stringify({ imports }));
  const errors = new Map<Block | undefined, string[]>();
  const deno = join(root, "node_modules/.bin/deno");
  try {
    // From the repository, whose deno.json resolves crossws from node_modules for the sources.
    await promisify(execFile)(deno, ["check", "--quiet", `--import-map=${map}`, ...roots], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
    });
  } catch (error) {
    const output = String((error as { stderr?: string }).stderr ?? error);
    // Reports are separated by blank lines; deno ends with a count, "Type checking failed" and,
    // with RUST_BACKTRACE set, a backtrace.
    const reports = output.split(/\n\s*\n/).filter((report) => report.trim());
    const summary = (report: string) =>
      /^(Found \d+ errors?\.|error: Type checking failed\.|Stack backtrace:[\s\S]*)$/.test(report.trim());
    for (const report of reports.some((report) => !summary(report)) ? reports.filter((report) => !summary(report)) : reports) {
      const at = /at file:\/\/(\S+?):(\d+):\d+/.exec(report);
      const owner = at?.[1] ? byFile.get(at[1]) : undefined;
      // An error in a block deno does not check itself (a Node block a Deno block imports) is nobody's: reported below.
      const key = owner?.block.runtime === "deno" ? owner.block : undefined;
      const text = owner && at ? `${where(owner.doc, owner.block, Number(at[2]) - 1)}: ${report}` : report;
      errors.set(key, [...(errors.get(key) ?? []), text]);
    }
  }
  return errors;
}

const results: Partial<Record<Runtime, Map<Block | undefined, string[]>>> = {};
// Once for every block: deno starts first and checks its blocks while tsc checks the others.
beforeAll(async () => {
  const deno = denoErrors();
  results.node = tscErrors("node");
  results.bun = tscErrors("bun");
  results.deno = await deno;
}, 180_000);

const errorsOf = (block: Block | undefined, runtime: Runtime): string[] => results[runtime]?.get(block) ?? [];

describe.each(docs.filter((doc) => doc.blocks.length > 0).map((doc) => [doc.path, doc] as const))(
  "%s: TypeScript blocks compile",
  (path, doc) => {
    if (path === "README.md") {
      it("has blocks to check", () => {
        expect(doc.blocks.length).toBeGreaterThan(10);
      });
    }
    it.each(doc.blocks.map((block) => [`${doc.expanded.origin(block.line)} (${block.file}, ${block.runtime})`, block] as const))(
      "%s",
      async (_name, block) => {
        const errors = await errorsOf(block, block.runtime);
        expect(errors, `\n${block.context ? `${block.context}\n// ---\n` : ""}${block.code}\n`).toEqual([]);
      },
    );
  },
);

describe("deno check", () => {
  it("reports nothing outside the blocks", () => {
    expect(errorsOf(undefined, "deno")).toEqual([]);
  });
});

describe("the site", () => {
  it("has a VitePress config that type-checks", () => {
    expect(configErrors).toEqual([]);
  });
  it("has a page for each guide of the sidebar", () => {
    const config = readFileSync(join(root, "docs/.vitepress/config.ts"), "utf8");
    const linked = [...config.matchAll(/link: "\/((?:guide|migrate)\/[\w-]+)"/g)].map((match) => `docs/${match[1]}.md`);
    expect(linked.length).toBeGreaterThan(10);
    for (const page of linked) expect(sitePages, `${page} is in the sidebar`).toContain(page);
    for (const page of sitePages.filter((page) => page !== "docs/index.md"))
      expect(linked, `${relative(root, page)} is not in the sidebar`).toContain(page);
  });
});
