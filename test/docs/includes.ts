// A site page as its reader sees it: its `<!--@include: FILE#REGION-->` lines replaced by the
// region of FILE between `<!-- #region REGION -->` and `<!-- #endregion REGION -->`, as VitePress
// does (the site's pages include parts of README.md instead of copying them). Unlike VitePress,
// which includes the whole file for a region it does not find, a missing file or region is an error.
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

export interface Expanded {
  text: string;
  /** Where line `n` (1-based) of `text` comes from, as "FILE:LINE" relative to `root`. */
  origin(line: number): string;
}

const include = /<!--\s*@include:\s*(.*?)\s*-->/;

export function expandIncludes(file: string, root: string): Expanded {
  const origins: string[] = [];
  const lines = expand(file, root, origins, [file]);
  return { text: lines.join("\n"), origin: (line) => origins[line - 1] ?? `${relative(root, file)}:?` };
}

function expand(file: string, root: string, origins: string[], stack: string[], range?: [number, number]): string[] {
  const all = readFileSync(file, "utf8").split("\n");
  const [from, to] = range ?? [0, all.length];
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    const line = all[i] ?? "";
    const match = include.exec(line);
    if (!match) {
      out.push(line);
      origins.push(`${relative(root, file)}:${i + 1}`);
      continue;
    }
    if (line.trim() !== match[0]) throw new Error(`${relative(root, file)}:${i + 1}: an include must be alone on its line`);
    const [path, region, ...rest] = (match[1] ?? "").split("#");
    if (!path || !region || rest.length > 0 || path.startsWith("@") || /\{\d*,\d*\}$/.test(region))
      throw new Error(`${relative(root, file)}:${i + 1}: write includes as <!--@include: RELATIVE/PATH.md#region-->`);
    const target = join(dirname(file), path);
    if (stack.includes(target)) throw new Error(`${relative(root, file)}:${i + 1}: ${path} includes itself`);
    const targetLines = readFileSync(target, "utf8").split("\n");
    const start = targetLines.findIndex((text) => text.trim() === `<!-- #region ${region} -->`);
    const end = targetLines.findIndex((text, at) => at > start && text.trim() === `<!-- #endregion ${region} -->`);
    if (start < 0 || end < 0)
      throw new Error(
        `${relative(root, file)}:${i + 1}: ${relative(root, target)} has no region "${region}" (<!-- #region ${region} --> … <!-- #endregion ${region} -->)`,
      );
    out.push(...expand(target, root, origins, [...stack, target], [start + 1, end]));
  }
  return out;
}
