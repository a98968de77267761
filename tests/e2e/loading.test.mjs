// End to end: when the widget fetches the bot. By default after the page has loaded (the shop's
// own content first); with data-load="open" only once the visitor opens the chat.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

const bot = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));

describe("when the widget loads the bot", () => {
  const env = useServerAndBrowser();

  async function demoPage(rewrite) {
    const context = await env.browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    const requests = [];
    page.on("request", (r) => requests.push({ url: new URL(r.url()).pathname, at: Date.now() }));
    if (rewrite) {
      await page.route(env.server.url, async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, body: rewrite(await response.text()) });
      });
    }
    return { page, watch, requests };
  }

  test("by default, after the page's load event", async () => {
    const { page, watch, requests } = await demoPage();
    await page.goto(env.server.url, { waitUntil: "load" });
    const loadedAt = Date.now();
    await page.waitForFunction(() => window.__sv.ready !== null);
    const model = requests.find((r) => r.url === "/bots/store.common.svm");
    assert.ok(model, "the model's common file was fetched without opening the chat");
    assert.ok(model.at >= loadedAt - 50, "the model is fetched after the load event");
    // The model travels in parts: an English browser fetches the English part and no other.
    const parts = requests.filter((r) => /^\/bots\/store\.[A-Za-z-]+\.svm$/.test(r.url) && r.url !== model.url).map((r) => r.url);
    assert.deepEqual(parts, ["/bots/store.en.svm"], "only the visitor's locale part");
    assert.deepEqual(await watch.all(), []);
    await page.context().close();
  });

  // pkg/ holds two builds: sottovoce.js (runtime, models only) and sottovoce_full.js (trains).
  test("a compiled model runs on the runtime build; definition JSON fetches the full build and trains", async () => {
    const cases = [
      { bot: "/bots/store.common.svm", source: "model", wasm: "/pkg/sottovoce_bg.wasm", unused: "/pkg/sottovoce_full" },
      { bot: "/bots/store.json", source: "definition", wasm: "/pkg/sottovoce_full_bg.wasm", unused: "/pkg/sottovoce_bg.wasm" },
    ];
    for (const c of cases) {
      const { page, watch, requests } = await demoPage((html) => html.replace('data-bot="/bots/store.common.svm"', `data-bot="${c.bot}"`));
      await page.goto(env.server.url, { waitUntil: "load" });
      await page.waitForFunction(() => window.__sv.ready !== null || window.__sv.error !== null, null, { timeout: 60_000 });
      assert.equal(await page.evaluate(() => window.__sv.error), null, c.bot);
      assert.equal(await page.evaluate(() => window.__sv.ready.source), c.source, c.bot);
      assert.ok(requests.some((r) => r.url === c.wasm), `${c.bot}: ${c.wasm} was fetched`);
      assert.deepEqual(requests.filter((r) => r.url.startsWith(c.unused)), [], `${c.bot}: ${c.unused}* was not fetched`);
      await page.getByRole("button", { name: "Open chat" }).click();
      const greeting = await page.locator('[data-from="bot"] p').first().textContent();
      assert.equal(greeting, bot.messages.en[bot.greeting.message]);
      assert.deepEqual(await watch.all(), []);
      await page.context().close();
    }
  });

  // `make pkg` writes www/sottovoce.min.js, the widget minified for production pages.
  test("the minified widget loads the model on the runtime build and greets like the source", async () => {
    const { page, watch, requests } = await demoPage((html) => html.replace('<script src="/sottovoce.js"', '<script src="/sottovoce.min.js"'));
    await page.goto(env.server.url, { waitUntil: "load" });
    await page.waitForFunction(() => window.__sv.ready !== null || window.__sv.error !== null, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.__sv.error), null);
    assert.equal(await page.evaluate(() => window.__sv.ready.source), "model");
    assert.ok(requests.some((r) => r.url === "/sottovoce.min.js"));
    assert.deepEqual(requests.filter((r) => r.url === "/sottovoce.js" || r.url.startsWith("/pkg/sottovoce_full")), []);
    await page.getByRole("button", { name: "Open chat" }).click();
    const greeting = await page.locator('[data-from="bot"] p').first().textContent();
    assert.equal(greeting, bot.messages.en[bot.greeting.message]);
    assert.deepEqual(await watch.all(), []);
    await page.context().close();
  });

  test('with data-load="open", only when the chat is opened', async () => {
    const { page, watch, requests } = await demoPage((html) => html.replace("<script src=\"/sottovoce.js\"", "<script data-load=\"open\" src=\"/sottovoce.js\""));
    await page.goto(env.server.url, { waitUntil: "load" });
    await page.waitForTimeout(1500);
    assert.equal(requests.filter((r) => r.url.startsWith("/bots/store.") || r.url.startsWith("/pkg/")).length, 0);
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.getByRole("dialog", { name: bot.name }).waitFor();
    await page.waitForFunction(() => window.__sv.firstBotMs !== null);
    const greeting = await page.locator('[data-from="bot"] p').first().textContent();
    assert.equal(greeting, bot.messages.en[bot.greeting.message]);
    assert.deepEqual(await watch.all(), []);
    await page.context().close();
  });
});
