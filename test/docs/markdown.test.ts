// Every ```ts block of README.md type-checks, as a reader would write it: `wsloop` and its
// entry points resolve to this package's sources, Node's blocks are checked by tsc with Node's
// types, Bun's with Bun's, Deno's by `deno check`. See test/docs/blocks.ts for the hidden
// `docs-context` comments that declare what a fragment uses.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { type Block, checkedSource, extractBlocks, markdownLine, type Runtime } from "./blocks.ts";

const root = join(import.meta.dirname, "../..");
const readme = join(root, "README.md");
const blocks = extractBlocks(readFileSync(readme, "utf8"));
const entries: Record<string, string> = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports;
const specifier = (entry: string) => (entry === "." ? "wsloop" : `wsloop/${entry.slice(2)}`);

// The blocks live in a directory that does not exist, so node_modules resolves as for the tests.
const virtualDir = join(root, "test/docs/readme");
const virtualFiles = new Map(blocks.map((block) => [join(virtualDir, block.file), checkedSource(block)]));

function tscErrors(runtime: Exclude<Runtime, "deno">): Map<Block, string[]> {
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
  host.directoryExists = (dir) => dir === virtualDir || (directoryExists?.call(host, dir) ?? true);
  host.fileExists = (file) => virtualFiles.has(file) || fileExists.call(host, file);
  host.readFile = (file) => virtualFiles.get(file) ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const text = virtualFiles.get(file);
    return text === undefined ? getSourceFile.call(host, file, language, ...rest) : ts.createSourceFile(file, text, language);
  };
  const mine = blocks.filter((block) => block.runtime === runtime);
  const program = ts.createProgram(
    mine.map((block) => join(virtualDir, block.file)),
    options,
    host,
  );
  const errors = new Map<Block, string[]>();
  for (const block of mine) {
    const source = program.getSourceFile(join(virtualDir, block.file));
    if (!source) throw new Error(`${block.file} was not loaded`);
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    errors.set(
      block,
      diagnostics.map((diagnostic) => {
        const at = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        const where = diagnostic.file === source && at ? markdownLine(block, at.line) : (diagnostic.file?.fileName ?? "?");
        return `README.md ${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
      }),
    );
  }
  return errors;
}

const denoDir = mkdtempSync(join(tmpdir(), "wsloop-readme-"));
afterAll(() => rmSync(denoDir, { recursive: true, force: true }));

async function denoErrors(block: Block): Promise<string[]> {
  // Named blocks are written too, so a Deno block can import "./app.ts" like the others.
  for (const other of blocks)
    if (other === block || other.file !== `block-${other.line}.ts`)
      writeFileSync(join(denoDir, other.file), checkedSource(other));
  const imports = Object.fromEntries(
    Object.entries(entries).map(([entry, file]) => [specifier(entry), new URL(file, `file://${root}/`).href]),
  );
  const map = join(denoDir, "import_map.json");
  writeFileSync(map, JSON.stringify({ imports }));
  const deno = join(root, "node_modules/.bin/deno");
  try {
    // From the repository, whose deno.json resolves crossws from node_modules for the sources.
    await promisify(execFile)(deno, ["check", "--quiet", `--import-map=${map}`, join(denoDir, block.file)], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
    });
    return [];
  } catch (error) {
    const output = String((error as { stderr?: string }).stderr ?? error);
    // deno reports "at file:///…/FILE.ts:LINE:COL"; put README's line next to each.
    return [
      output.replace(/at file:\/\/\S+?\/([\w-]+\.ts):(\d+):\d+/g, (match, file: string, line: string) =>
        file === block.file ? `${match} (README.md ${markdownLine(block, Number(line) - 1)})` : match,
      ),
    ];
  }
}

const checked: Partial<Record<Runtime, Map<Block, string[]>>> = {};
const errorsOf = (block: Block) => {
  if (block.runtime === "deno") throw new Error("deno blocks are checked by deno");
  checked[block.runtime] ??= tscErrors(block.runtime);
  return checked[block.runtime]?.get(block) ?? [];
};

describe("README.md's TypeScript blocks compile", () => {
  it("has blocks to check", () => {
    expect(blocks.length).toBeGreaterThan(10);
  });
  it.each(blocks.map((block) => [`line ${block.line} (${block.file}, ${block.runtime})`, block] as const))(
    "%s",
    async (_name, block) => {
      const errors = block.runtime === "deno" ? await denoErrors(block) : errorsOf(block);
      expect(errors, `\n${block.context ? `${block.context}\n// ---\n` : ""}${block.code}\n`).toEqual([]);
    },
  );
});
