// End to end: storage faults the widget meets on real visitors' browsers (issue 21, item 6).
// Quota exceeded in the middle of a conversation, two tabs of the site chatting at once, the
// clock going backwards, and a conversation stored by a newer version of the widget. In each:
// no message the visitor saw is lost, nothing throws, no CSP violation.
//
// Run: make pkg cli && node --test tests/e2e/storage-faults.test.mjs
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

const bot = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));
const STORAGE_KEY = `sottovoce:v1:${bot.id}`;
const MEMORY_NOTE = "This chat won't be remembered after you leave this page.";

describe("the widget under storage faults", () => {
  const env = useServerAndBrowser();

  async function openPage(context, setup, arg) {
    const page = await context.newPage();
    const watch = await watchPage(page);
    if (setup) await page.addInitScript(setup, arg);
    await recordWidgetEvents(page);
    await page.goto(env.server.url);
    await openChat(page);
    return { page, watch };
  }

  // The panel's open state is remembered per site: a second tab or a reload may find it open.
  async function openChat(page) {
    await page.waitForFunction(() => window.__sv.ready !== null);
    const dialog = page.getByRole("dialog", { name: bot.name });
    if (!(await dialog.isVisible())) await page.getByRole("button", { name: "Open chat" }).click();
    await dialog.waitFor();
  }

  async function say(page, text) {
    const before = await page.evaluate(() => window.__sv.intents.length);
    await page.getByRole("textbox", { name: "Message" }).fill(text);
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForFunction((n) => window.__sv.intents.length > n, before);
  }

  const visitorTexts = (page) => page.locator('[data-from="visitor"] p').allTextContents();

  test("quota exceeded on the Nth write: the chat goes on in memory, says so, keeps every message", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    // Every write from the 4th on throws, as a full origin does mid-conversation.
    const { page, watch } = await openPage(context, () => {
      const setItem = Storage.prototype.setItem;
      let calls = 0;
      Storage.prototype.setItem = function (key, value) {
        calls += 1;
        if (calls >= 4) throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
        return setItem.call(this, key, value);
      };
    });
    for (const text of ["do you ship to Canada?", "where is my order", "what are your opening hours?"]) await say(page, text);
    assert.deepEqual(await visitorTexts(page), ["do you ship to Canada?", "where is my order", "what are your opening hours?"]);
    assert.equal(await page.locator(".sv-note").textContent(), MEMORY_NOTE, "the visitor is told once writes fail");
    const stored = await page.evaluate((k) => localStorage.getItem(k), STORAGE_KEY);
    assert.equal(JSON.parse(stored).bot_id, bot.id, "the last complete write is intact");
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("two tabs chatting at once: no message lost, both converge", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    const a = await openPage(context);
    const b = await openPage(context);
    await say(a.page, "do you ship to Canada?");
    await say(b.page, "where is my order");
    await say(a.page, "what are your opening hours?");
    await say(b.page, "can I return a jacket?");
    const all = ["do you ship to Canada?", "where is my order", "what are your opening hours?", "can I return a jacket?"];
    await a.page.waitForFunction((n) => document.querySelector("#sottovoce-widget").shadowRoot
      .querySelectorAll('[data-from="visitor"]').length === n, all.length);
    assert.deepEqual(await visitorTexts(a.page), all, "tab A shows tab B's messages too");
    assert.deepEqual(await visitorTexts(b.page), all);
    const stored = JSON.parse(await a.page.evaluate((k) => localStorage.getItem(k), STORAGE_KEY));
    const storedVisitor = stored.transcript.filter((e) => e.from === "visitor").map((e) => e.text);
    assert.deepEqual(storedVisitor, all, "the stored conversation holds every message once");
    const c = await openPage(context); // a third tab, opened afterwards, sees the same
    assert.deepEqual(await visitorTexts(c.page), all);
    for (const { watch } of [a, b, c]) assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("the clock going backwards: turns still answered, stored and reloaded in order", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    // Date.now() is shifted by sessionStorage "skew" (ms), which survives the reload.
    const { page, watch } = await openPage(context, () => {
      const now = Date.now.bind(Date);
      Date.now = () => now() + Number(sessionStorage.getItem("skew") || 0);
    });
    await say(page, "do you ship to Canada?");
    await page.evaluate(() => sessionStorage.setItem("skew", String(-3 * 3600_000)));
    await say(page, "where is my order");
    await page.evaluate(() => sessionStorage.setItem("skew", String(-400 * 86_400_000)));
    await page.reload();
    await openChat(page);
    await say(page, "what are your opening hours?");
    assert.deepEqual(await visitorTexts(page), ["do you ship to Canada?", "where is my order", "what are your opening hours?"]);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("a conversation stored by a newer version: refused, kept untouched, the chat still works", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    const future = JSON.stringify({ version: 99, bot_id: bot.id, transcript: [{ from: "visitor", text: "from the future" }], shape: "unknown" });
    const { page, watch } = await openPage(context, ([key, value]) => {
      if (!sessionStorage.getItem("seeded")) {
        localStorage.setItem(key, value);
        sessionStorage.setItem("seeded", "1");
      }
    }, [STORAGE_KEY, future]);
    await say(page, "do you ship to Canada?");
    assert.equal(await page.evaluate(() => window.__sv.intents[0].intent), "international_shipping");
    assert.deepEqual(await visitorTexts(page), ["do you ship to Canada?"], "the newer conversation is not shown as this one");
    assert.equal(await page.evaluate((k) => localStorage.getItem(k), STORAGE_KEY), future, "the stored data is kept byte for byte");
    assert.equal(await page.locator(".sv-note").textContent(), MEMORY_NOTE);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});
