// Pulls the ```ts blocks out of a Markdown file, each with the hidden context it is checked in.
//
// A block that uses names it does not declare (the reader's own `app`, a handler shown earlier) is
// preceded by an HTML comment, invisible on GitHub and on the site, whose body is prepended to the
// block when it is type-checked; `runtime=bun` or `runtime=deno` picks the checker (default: tsc
// with Node's types):
//
//   <!-- docs-context runtime=bun
//   declare const app: FetchHandler;
//   -->
//
// A block whose first line is `// NAME.ts…` is checked as the file NAME.ts, so a later block can
// `import { app } from "./app.ts"` as the reader would. A page can also declare such a file without
// showing it, for blocks that import what the page only describes:
//
//   <!-- docs-file app.ts
//   export declare function app(request: Request): Response;
//   -->

export type Runtime = "node" | "bun" | "deno";

export interface Block {
  /** 1-based line in the (expanded) Markdown text of the block's first code line. */
  line: number;
  /** The file name the block is checked as. */
  file: string;
  runtime: Runtime;
  /** The hidden context, prepended to the code. */
  context: string;
  code: string;
}

const fence = /^```(\w*)/;
const comment = /^<!--\s*docs-(context|file)(?:\s+([\w-]+\.ts))?(?:\s+runtime=(node|bun|deno))?\s*(.*)$/;

export function extractBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  let pending: { runtime: Runtime; context: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const open = comment.exec(line);
    if (open) {
      const start = i + 1;
      const body: string[] = [];
      let rest = open[4] ?? "";
      // The comment may close on its first line or on a later one.
      while (!rest.includes("-->")) {
        if (rest.trim()) body.push(rest);
        i++;
        if (i >= lines.length) throw new Error(`unclosed docs-${open[1]} comment at line ${start}`);
        rest = lines[i] ?? "";
      }
      const last = rest.slice(0, rest.indexOf("-->"));
      if (last.trim()) body.push(last);
      const runtime = (open[3] as Runtime | undefined) ?? "node";
      if (open[1] === "file") {
        if (!open[2]) throw new Error(`docs-file at line ${start} names no NAME.ts`);
        blocks.push({ line: start + 1, file: open[2], runtime, context: "", code: body.join("\n") });
      } else {
        pending = { runtime, context: body.join("\n") };
      }
      continue;
    }
    const start = fence.exec(line);
    if (!start) {
      if (line.trim() && pending) throw new Error(`docs-context at line ${i} is not followed by a code block`);
      continue;
    }
    const lang = start[1] ?? "";
    const code: string[] = [];
    const first = i + 2;
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ""); i++) code.push(lines[i] ?? "");
    if (lang === "ts" || lang === "typescript") {
      const named = /^\/\/ ([\w-]+\.ts)\b/.exec(code[0] ?? "");
      blocks.push({
        line: first,
        file: named?.[1] ?? `block-${first}.ts`,
        runtime: pending?.runtime ?? "node",
        context: pending?.context ?? "",
        code: code.join("\n"),
      });
    } else if (pending) {
      throw new Error(`docs-context before a \`\`\`${lang} block at line ${first - 1}`);
    }
    pending = undefined;
  }
  // Two blocks named alike (a page's server.ts for each runtime): the first keeps the name that
  // other blocks import, the others are checked under a name of their own.
  const seen = new Set<string>();
  for (const block of blocks) {
    if (seen.has(block.file)) block.file = `block-${block.line}.ts`;
    seen.add(block.file);
  }
  return blocks;
}

/** The source that is type-checked: context, then the block, as a module. */
export function checkedSource(block: Block): string {
  return `${block.context ? `${block.context}\n` : ""}${block.code}\nexport {};\n`;
}

/** The 1-based line of the Markdown text that a 0-based line of `checkedSource(block)` came from, or undefined for the context. */
export function sourceLineOf(block: Block, sourceLine: number): number | undefined {
  const contextLines = block.context ? block.context.split("\n").length : 0;
  return sourceLine < contextLines ? undefined : block.line + sourceLine - contextLines;
}
