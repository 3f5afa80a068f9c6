// Pulls the ```ts blocks out of a Markdown file, each with the hidden context it is checked in.
//
// A block that uses names it does not declare (the reader's own `app`, a handler shown earlier) is
// preceded by an HTML comment, invisible on GitHub, whose body is prepended to the block when it is
// type-checked; `runtime=bun` or `runtime=deno` picks the checker (default: tsc with Node's types):
//
//   <!-- docs-context runtime=bun
//   declare const app: FetchHandler;
//   -->
//
// A block whose first line is `// NAME.ts…` is checked as the file NAME.ts, so a later block can
// `import { app } from "./app.ts"` as the reader would.

export type Runtime = "node" | "bun" | "deno";

export interface Block {
  /** 1-based line in the Markdown file of the block's first code line. */
  line: number;
  /** The file name the block is checked as. */
  file: string;
  runtime: Runtime;
  /** The hidden context, prepended to the code. */
  context: string;
  code: string;
}

const fence = /^```(\w*)\s*$/;
const contextOpen = /^<!--\s*docs-context(?:\s+runtime=(node|bun|deno))?\s*(.*)$/;

export function extractBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  let pending: { runtime: Runtime; context: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const open = contextOpen.exec(line);
    if (open) {
      const body: string[] = [];
      let rest = open[2] ?? "";
      // The comment may close on its first line or on a later one.
      while (!rest.includes("-->")) {
        if (rest.trim()) body.push(rest);
        i++;
        if (i >= lines.length) throw new Error(`unclosed docs-context comment at line ${i}`);
        rest = lines[i] ?? "";
      }
      const last = rest.slice(0, rest.indexOf("-->"));
      if (last.trim()) body.push(last);
      pending = { runtime: (open[1] as Runtime | undefined) ?? "node", context: body.join("\n") };
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
  return blocks;
}

/** The source that is type-checked: context, then the block, as a module. */
export function checkedSource(block: Block): string {
  return `${block.context ? `${block.context}\n` : ""}${block.code}\nexport {};\n`;
}

/** Maps a 0-based line of `checkedSource(block)` to the Markdown line it came from. */
export function markdownLine(block: Block, sourceLine: number): string {
  const contextLines = block.context ? block.context.split("\n").length : 0;
  return sourceLine < contextLines ? `the docs-context of line ${block.line}` : `line ${block.line + sourceLine - contextLines}`;
}
