// The example chat page in headless Chromium, against the example server on each runtime: two
// people chat through wsloop/client, the server restarts on the same port, both pages reconnect
// by themselves and go on; the page fits a desktop and a 375 px phone without horizontal scrolling.
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureServer, type MatrixRuntime, startScript } from "../matrix/server.ts";
import { launchChromium } from "./chromium.ts";

const root = join(import.meta.dirname, "../..");
const screenshots = join(tmpdir(), "wsloop-chat-screenshots");

/** The page serves the built client (dist/client.js): it must not be older than its sources. */
function assertClientBuilt(): void {
  const built = join(root, "dist/client.js");
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error("dist/client.js is missing: run `npm run build` (the chat page serves the built client)");
  }
  const sources = [join(root, "src/client.ts"), ...readdirSync(join(root, "src/client")).map((f) => join(root, "src/client", f))];
  const stale = sources.filter((source) => statSync(source).mtimeMs > builtAt);
  if (stale.length > 0) throw new Error(`dist/client.js is older than ${stale.join(", ")}: run \`npm run build\``);
}

let browser: Browser;
beforeAll(async () => {
  assertClientBuilt();
  mkdirSync(screenshots, { recursive: true });
  browser = await launchChromium();
});
afterAll(() => browser?.close());

const startChat = (runtime: MatrixRuntime, port = 0) =>
  startScript(runtime, `examples/${runtime}/server.ts`, /Chat on http:\/\/\S+:(\d+)\//, { PORT: String(port) });

async function joinRoom(page: Page, url: string, user: string, room = ""): Promise<void> {
  await page.goto(url);
  await page.fill("#user", user);
  await page.fill("#room", room);
  await page.click("#join button");
  await expect.poll(() => page.textContent("#status-text")).toBe("Connected");
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("input[name=text]", text);
  await page.press("input[name=text]", "Enter");
}

/** The room's events as the page shows them ("You joined", "Bob left", …). */
const events = (page: Page) => page.locator("#log .event .what").allTextContents();
/** The confirmed messages ("Bob: hi", "You: hello"), each with its time. */
const messages = (page: Page) =>
  page.locator("#log .msg:not(.pending):not(.failed)").evaluateAll((nodes) =>
    nodes.map((node) => {
      const time = node.querySelector("time")?.textContent ?? "";
      if (!/\d{1,2}:\d{2}/.test(time)) return `no time on ${node.textContent}`;
      return `${node.querySelector(".who")?.textContent}: ${node.querySelector(".body")?.textContent}`;
    }),
  );
const people = (page: Page) => page.locator("#people-list li > span:not(.avatar)").allTextContents();
const status = (page: Page) => page.textContent("#status-text");

/** Every box that could scroll sideways (the document, and any element with overflow auto/scroll) fits. */
const horizontalOverflow = (page: Page) =>
  page.evaluate(() => {
    const overflowing: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) overflowing.push(`document ${root.scrollWidth} > ${root.clientWidth}`);
    for (const node of document.querySelectorAll<HTMLElement>("body *")) {
      const style = getComputedStyle(node);
      if (!["auto", "scroll"].includes(style.overflowX) || node.offsetParent === null) continue;
      if (node.scrollWidth > node.clientWidth + 1)
        overflowing.push(`${node.id || node.className} ${node.scrollWidth} > ${node.clientWidth}`);
    }
    return overflowing;
  });

describe.each(["node", "bun", "deno", "cloudflare"] as MatrixRuntime[])("the chat page on %s", (runtime) => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startChat(runtime);
  });
  afterAll(() => server?.kill());

  it("two people chat; the server restarts; both pages reconnect by themselves and go on", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const [ann, bob] = [await context.newPage(), await context.newPage()];
      await joinRoom(ann, `${server.http}/`, "Ann");
      await joinRoom(bob, `${server.http}/`, "Bob");
      await expect.poll(() => events(ann)).toEqual(["You joined", "Bob joined"]);
      expect(await people(ann)).toEqual(["Ann", "Bob"]);
      await say(ann, "hello from Ann");
      await expect.poll(() => messages(bob)).toEqual(["Ann: hello from Ann"]);
      await expect.poll(() => messages(ann)).toEqual(["You: hello from Ann"]);
      // Bob learns Ann is here when she writes (she joined before him).
      expect(await people(bob)).toEqual(["Bob", "Ann"]);

      // Node is killed (the sockets drop, 1006); Bun and Deno shut down gracefully (1001).
      const port = Number(new URL(server.http).port);
      if (runtime === "node") await server.kill();
      else {
        server.signal("SIGTERM");
        await server.exited;
      }
      for (const page of [ann, bob]) await expect.poll(() => status(page)).toMatch(/^(Reconnecting in \d+ s|Connecting…)$/);
      await say(bob, "sent while offline");
      await expect.poll(() => bob.locator("#log .msg.pending .state").allTextContents()).toEqual(["Waiting for connection…"]);
      await bob.screenshot({ path: join(screenshots, `${runtime}-desktop-reconnecting.png`) });

      server = await startChat(runtime, port);
      for (const page of [ann, bob]) {
        await expect.poll(() => status(page), { timeout: 20_000 }).toBe("Connected");
        await expect.poll(() => events(page)).toContain("Reconnected");
      }
      // Bob's queued message went out once he was back: his own copy came back from the room.
      await expect.poll(() => messages(bob)).toEqual(["Ann: hello from Ann", "You: sent while offline"]);
      await say(ann, "back again");
      await expect.poll(() => messages(bob)).toContain("Ann: back again");
      await say(bob, "me too");
      await expect.poll(() => messages(ann)).toContain("Bob: me too");
      // Whoever reconnected first missed the other's "joined": a message puts the author on the list.
      expect(await people(ann)).toContain("Bob");

      await bob.close();
      await expect.poll(() => events(ann)).toContain("Bob left");
      await expect.poll(() => people(ann)).toEqual(["Ann"]);
    } finally {
      await context.close();
    }
  });

  // The page is the same whichever runtime serves it: its layout is checked once.
  it.runIf(runtime === "node")("fits a desktop and a 375 px phone without horizontal scrolling", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const [ann, bob] = [await context.newPage(), await context.newPage()];
      for (const [name, width, height] of [
        ["desktop", 1280, 800],
        ["phone", 375, 740],
      ] as const) {
        await ann.setViewportSize({ width, height });
        await ann.goto(`${server.http}/`);
        await ann.screenshot({ path: join(screenshots, `${runtime}-${name}-join.png`) });
        expect(await horizontalOverflow(ann)).toEqual([]);
        await joinRoom(ann, `${server.http}/`, "Ann", `design-${name}`);
        await joinRoom(bob, `${server.http}/`, "Bartholomew-with-a-rather-long-name", `design-${name}`);
        const url = `https://example.com/${"a-very-long-path-without-spaces-".repeat(6)}`;
        await say(bob, `Did the deploy go through? ${url}`);
        await say(ann, "Yes, all green. The new build is live on every runtime.");
        await expect.poll(async () => (await messages(ann)).length).toBe(2);
        await ann.screenshot({ path: join(screenshots, `${runtime}-${name}-chat.png`) });
        expect(await horizontalOverflow(ann)).toEqual([]);
        if (name === "phone") {
          // The people list is a panel behind the header's button on a phone.
          await ann.click("#people-toggle");
          await expect.poll(() => ann.locator("#people").isVisible()).toBe(true);
          await ann.screenshot({ path: join(screenshots, `${runtime}-${name}-people.png`) });
          expect(await horizontalOverflow(ann)).toEqual([]);
        }
        await ann.click("#leave");
        await bob.click("#leave");
      }
    } finally {
      await context.close();
    }
  });
});
