// The documentation site has no broken internal link. It is built (`npm run docs`) and served
// from 127.0.0.1; then
// - every page, the API reference's included, is read as HTML: each internal href and src names
//   a file that exists, and each #fragment an id or name in its target;
// - each guide is opened in headless Chromium, and every link to another page is clicked as a
//   reader would, through VitePress' client-side router: the page it lands on is not VitePress'
//   404 page, and its #fragment exists in the rendered page. (A link the router takes for one of
//   its own pages, such as /api/ without target="_self", exists as a file and still fails here.)
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, relative } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./chromium.ts";

const root = join(import.meta.dirname, "../..");
const site = join(root, "site");

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
};

/** The file a URL path names, as a static host serves the site: "/x/" is "/x/index.html". */
function fileOf(pathname: string): string | undefined {
  const path = join(site, decodeURIComponent(pathname));
  if (!path.startsWith(site)) return undefined;
  const file = pathname.endsWith("/") ? join(path, "index.html") : path;
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}

let server: Server;
let origin: string;
let browser: Browser;

/** What the site is built from; `npm run docs` stamps site/.built after a build without warnings. */
const sources = ["README.md", "docs", "src", "scripts/docs.mjs", "scripts/api-docs.mjs", "deno.json", "package-lock.json"];

function newestSource(): number {
  const times = sources.flatMap((source) => {
    const path = join(root, source);
    if (!statSync(path).isDirectory()) return [statSync(path).mtimeMs];
    return readdirSync(path, { recursive: true, encoding: "utf8" }).map((file) => statSync(join(path, file)).mtimeMs);
  });
  return Math.max(...times);
}

beforeAll(async () => {
  // `npm run check` builds the site before `npm run test:all` runs this: no need to build it twice.
  const stamp = join(site, ".built");
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < newestSource())
    await promisify(execFile)(process.execPath, [join(root, "scripts/docs.mjs")], { cwd: root });
  server = createServer((request, response) => {
    const file = fileOf(new URL(request.url ?? "/", "http://localhost").pathname);
    if (!file) {
      response.writeHead(404, { "content-type": types[".html"] }).end(readFileSync(join(site, "404.html")));
      return;
    }
    response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const htmlFiles = () =>
  readdirSync(site, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".html"))
    .map((path) => `/${path}`);

const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const decode = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (match, name: string) =>
    name.startsWith("#x") || name.startsWith("#X")
      ? String.fromCodePoint(Number.parseInt(name.slice(2), 16))
      : name.startsWith("#")
        ? String.fromCodePoint(Number(name.slice(1)))
        : (entities[name] ?? match),
  );

const idCache = new Map<string, Set<string>>();
function idsOf(file: string): Set<string> {
  let ids = idCache.get(file);
  if (!ids) {
    const html = readFileSync(file, "utf8");
    ids = new Set([...html.matchAll(/\s(?:id|name)="([^"]*)"/g)].map((match) => decode(match[1] ?? "")));
    idCache.set(file, ids);
  }
  return ids;
}

describe("the built site's HTML", () => {
  it("has the guides and the API reference", () => {
    const pages = htmlFiles();
    expect(pages).toContain("/index.html");
    expect(pages).toContain("/guide/getting-started.html");
    expect(pages).toContain("/api/index.html");
    expect(pages.filter((page) => page.startsWith("/api/")).length).toBeGreaterThan(100);
  });

  it("has no internal link or source that leads nowhere", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of htmlFiles()) {
      const html = readFileSync(join(site, page), "utf8");
      for (const [, attribute, raw] of html.matchAll(/\s(href|src)="([^"]*)"/g)) {
        const value = decode(raw ?? "");
        if (/^(mailto|javascript|data):/i.test(value)) continue;
        if (/^file:/i.test(value)) {
          broken.push(`${page}: ${attribute}="${value}" points into a local file`);
          continue;
        }
        const url = new URL(value, `http://site${page}`);
        if (url.origin !== "http://site") continue; // external: not checked here (no network)
        checked++;
        const file = fileOf(url.pathname);
        if (!file) broken.push(`${page}: ${attribute}="${value}": no file ${url.pathname}`);
        else if (url.hash && url.hash !== "#" && !idsOf(file).has(decodeURIComponent(url.hash.slice(1))))
          broken.push(
            `${page}: ${attribute}="${value}": no #${decodeURIComponent(url.hash.slice(1))} in ${relative(site, file)}`,
          );
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(broken).toEqual([]);
  });
});

/** "/" and "/index.html" are one page. */
const samePage = (a: string, b: string) => a.replace(/index\.html$/, "") === b.replace(/index\.html$/, "");

describe("the guides in Chromium", () => {
  it("every link to another page lands on that page, and on its #fragment", async () => {
    const guides = htmlFiles().filter((page) => !page.startsWith("/api/") && page !== "/404.html");
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
    const clicked = new Set<string>();
    const broken: string[] = [];
    try {
      for (const guide of guides) {
        await page.goto(`${origin}${guide}`);
        const guideTitle = await page.title();
        const links = await page.$$eval("a[href]", (anchors) =>
          anchors.map((anchor) => ({ href: (anchor as HTMLAnchorElement).href, raw: anchor.getAttribute("href") ?? "" })),
        );
        for (const { href, raw } of links) {
          const url = new URL(href);
          if (url.origin !== origin || samePage(url.pathname, new URL(page.url()).pathname) || clicked.has(href)) continue;
          clicked.add(href);
          const before = await page.title();
          // Clicked in the page, so that VitePress' router handles it as it would a reader's click.
          await page.$$eval(
            "a[href]",
            (anchors, wanted) => {
              const anchor = anchors.find((element) => element.getAttribute("href") === wanted) as HTMLAnchorElement | undefined;
              anchor?.click();
            },
            raw,
          );
          try {
            await page.waitForURL((current) => current.pathname === url.pathname, { timeout: 10_000 });
          } catch {
            broken.push(`${guide}: clicking ${raw} did not lead to ${url.pathname} (at ${page.url()})`);
            await page.goto(`${origin}${guide}`);
            continue;
          }
          // The router changes the URL first and the page after: each page has a title of its own.
          await page.waitForFunction((title) => document.title !== title, before, { timeout: 10_000 }).catch(() => {});
          const landed = await page.evaluate(
            (hash) => ({
              notFound: document.querySelector(".NotFound") !== null || document.title.startsWith("404"),
              fragment: !hash || document.getElementById(decodeURIComponent(hash.slice(1))) !== null,
              content: (document.body.textContent ?? "").trim().length > 0,
            }),
            url.hash,
          );
          if (landed.notFound || !landed.content) broken.push(`${guide}: ${raw} shows a 404 page`);
          else if (!landed.fragment) broken.push(`${guide}: ${raw}: no ${url.hash} on the page`);
          // Back as a reader goes back: within the app, the router restores the guide.
          await page.goBack();
          await page.waitForFunction((title) => document.title === title, guideTitle, { timeout: 10_000 });
        }
      }
    } finally {
      await context.close();
    }
    expect(clicked.size).toBeGreaterThan(20);
    expect(broken).toEqual([]);
    expect(errors).toEqual([]);
  }, 120_000);
});
