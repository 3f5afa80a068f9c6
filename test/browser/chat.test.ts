// The example chat page in headless Chromium, against the example server on each runtime.
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureServer, type MatrixRuntime, startScript } from "../matrix/server.ts";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(() => browser?.close());

async function join(page: Page, url: string, user: string): Promise<void> {
  await page.goto(url);
  await page.fill("input[name=user]", user);
  await page.click("#join button");
  await expect.poll(() => page.textContent("#status")).toContain(`as ${user}`);
}

const log = (page: Page) => page.locator("#log p").allTextContents();

describe.each(["node", "bun", "deno", "cloudflare"] as MatrixRuntime[])("the chat page on %s", (runtime) => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startScript(runtime, `examples/${runtime}/server.ts`, /Chat on http:\/\/\S+:(\d+)\//);
  });
  afterAll(() => server?.kill());

  it("two people join, one types a message, the other sees it", async () => {
    const context = await browser.newContext();
    try {
      const [ann, bob] = [await context.newPage(), await context.newPage()];
      await join(ann, `${server.http}/`, "Ann");
      await join(bob, `${server.http}/`, "Bob");
      await expect.poll(() => log(ann)).toEqual(["Ann joined", "Bob joined"]);
      await ann.fill("input[name=text]", "hello from Ann");
      await ann.press("input[name=text]", "Enter");
      await expect.poll(() => log(bob)).toEqual(["Bob joined", "Ann: hello from Ann"]);
      await expect.poll(() => log(ann)).toEqual(["Ann joined", "Bob joined", "Ann: hello from Ann"]);
      await bob.close();
      await expect.poll(() => log(ann)).toContain("Bob left");
    } finally {
      await context.close();
    }
  });
});
