// The README's screenshots, one per audience, taken in Debian's Chromium from the real thing:
// the demo shop with the script-tag widget (a product answer, then Arabic in dark mode on a
// phone), the Vite + React example built on the npm package, and the CLI's own output.
//
// Run: make screenshots   (needs `make pkg cli test-examples` first; writes docs/img/*.png)
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { ROOT, launchChromium, startServer } from "../tests/e2e/support.mjs";

const OUT = join(ROOT, "docs", "img");
mkdirSync(OUT, { recursive: true });
const shot = async (target, name) => {
  await target.screenshot({ path: join(OUT, name) });
  console.log(`wrote docs/img/${name} (${(statSync(join(OUT, name)).size / 1024).toFixed(0)} KiB)`);
};

/// Types `text` into the widget's box and waits until the bot has answered it.
async function ask(page, label, text) {
  const box = page.getByRole("textbox", { name: label });
  const before = await page.locator("#sottovoce-widget").evaluate((w) => w.shadowRoot.querySelectorAll("[data-from=bot]").length);
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction((n) => document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll("[data-from=bot]").length > n, before, { timeout: 15_000 });
}

const browser = await launchChromium();
const server = await startServer();
try {
  // 1. Site owners: the demo shop, one script tag, a product question answered with cards.
  {
    const context = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 860 }, colorScheme: "light" });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    await ask(page, "Message", "do you have waterproof hiking boots for women?");
    await page.locator("#sottovoce-widget").evaluate((w) => new Promise((resolve) => {
      const look = () => (w.shadowRoot.querySelector(".sv-product img") ? resolve() : setTimeout(look, 50));
      look();
    }));
    await page.waitForTimeout(500); // images decoded, the log scrolled
    await shot(page, "script-tag.png");
    await context.close();
  }
  // 2. The same widget for an Arabic-speaking visitor on a phone with dark mode: right to left,
  // full-screen panel, the widget's own words in Arabic.
  {
    const context = await browser.newContext({ locale: "ar", viewport: { width: 390, height: 780 }, colorScheme: "dark", isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.locator("#sottovoce-widget").evaluate((w) => w.shadowRoot.querySelector(".sv-launcher").click());
    await ask(page, "رسالة", "هل تشحنون إلى إسبانيا؟");
    await page.waitForTimeout(300);
    await shot(page, "script-tag-ar-dark-mobile.png");
    await context.close();
  }
  // 3. Frontend developers: the Vite + React example (examples/vite-react, built by
  // `make test-examples`) driving `Chat` from the npm package in its own UI.
  {
    const dist = join(ROOT, "examples", "vite-react", "dist");
    if (!existsSync(join(dist, "index.html"))) throw new Error(`${dist} is missing: run \`make test-examples\` first`);
    const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css" };
    const site = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
      const file = join(dist, path.endsWith("/") ? `${path}index.html` : path);
      if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) return response.writeHead(404).end();
      response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
    });
    await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
    const context = await browser.newContext({ locale: "en-US", viewport: { width: 900, height: 640 } });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${site.address().port}/`);
    await page.locator('li[data-from="bot"]').first().waitFor({ timeout: 20_000 });
    await page.getByLabel("Message").fill("how long does shipping to Canada take?");
    await page.getByLabel("Message").press("Enter");
    await page.locator('li[data-from="bot"]').nth(1).waitFor({ timeout: 10_000 });
    await shot(page, "npm-vite-react.png");
    await context.close();
    site.close();
  }
  // 4. The command line: `sottovoce check` and `sottovoce test` on the demo bot, their real
  // output set as text in a terminal-like page.
  {
    const cli = join(ROOT, "target", "release", "sottovoce");
    const run = (args) => {
      try {
        return execFileSync(cli, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      } catch (error) {
        return String(error.stdout ?? "") + String(error.stderr ?? ""); // check exits 1 on errors: its output is the point
      }
    };
    const stories = ["tests/stories/follow-ups.yaml", "tests/stories/product-follow-ups.yaml", "tests/stories/locale-ar.yaml"].filter((f) => existsSync(join(ROOT, f)));
    const lines = [
      "$ sottovoce test " + stories.join(" "),
      ...run(["test", ...stories]).trimEnd().split("\n").slice(-8),
      "",
      "$ sottovoce check www/bots/store.json",
      ...run(["check", "www/bots/store.json"]).trimEnd().split("\n").slice(0, 14),
    ];
    const context = await browser.newContext({ viewport: { width: 1000, height: 560 } });
    const page = await context.newPage();
    await page.setContent("<style>body{margin:0;background:#1d2021}pre{margin:0;padding:18px;color:#ebdbb2;font:14px/1.45 'DejaVu Sans Mono',monospace;white-space:pre-wrap}</style><pre></pre>");
    await page.locator("pre").evaluate((pre, text) => { pre.textContent = text; }, lines.join("\n"));
    await shot(page, "cli.png");
    await context.close();
  }
} finally {
  await server.stop();
  await browser.close();
}
