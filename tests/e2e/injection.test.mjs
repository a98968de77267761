// End to end: the injection corpus (tests/fixtures/injection/corpus.json, issue 21 item 5)
// through the widget's text paths in Chromium, under the demo's strict CSP: what a visitor
// types, and what an owner writes (reply text with Markdown links of every URL form, quick
// reply labels, link labels). Nothing may run (window.__pwned stays unset, no CSP violation, no
// page error), nothing may be fetched from evil.example, and the widget's DOM holds no event
// handler attribute, no script/iframe/object/embed/base/meta element (its own composer form has no action), and no href or src
// outside http, https, mailto and tel. The core's side of the same corpus: tests/injection.rs.
//
// Run: make pkg cli && node --test tests/e2e/injection.test.mjs
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, forbiddenInPage, recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

const corpus = JSON.parse(readFileSync(join(ROOT, "tests/fixtures/injection/corpus.json"), "utf8"));

/** Owner text as a Fluent message: placeable braces written as string literals. */
const fluent = (text) => text.replace(/[{}]/g, (c) => `{"${c}"}`);
/** Markdown links of every URL form, labelled L0, L1 …, on one line (Fluent trims and joins). */
const markdownLinks = corpus.links.map((c, i) => `[L${i}](${c.url})`).join(" · ");

/** A bot definition whose greeting holds every link form and whose `attack` reply holds every
 *  payload, as text, as quick reply labels and as link labels. */
function injectionBot() {
  const messages = { "other-reply": "Hi.", greeting: fluent(`Links: ${markdownLinks}`), "attack-reply": fluent(corpus.payloads.join(" ◆ ")) };
  corpus.payloads.forEach((p, i) => { messages[`p${i}`] = fluent(p); });
  return {
    format: 1, id: "injection", name: "Injection", locales: ["en"],
    intents: [
      { name: "attack", examples: { en: ["attack", "show the attack", "run the attack", "attack please"] },
        reply: { message: "attack-reply",
          links: corpus.payloads.map((_, i) => ({ label: `p${i}`, url: "https://ok.example/" })),
          quick_replies: corpus.payloads.slice(0, 8).map((_, i) => ({ label: `p${i}`, intent: "other" })) } },
      { name: "other", examples: { en: ["hello", "hi there", "good morning", "hey"] }, reply: { message: "other-reply" } },
    ],
    fallback: { message: "other-reply" },
    greeting: { message: "greeting", returning: "greeting" },
    messages: { en: messages },
  };
}

describe("the injection corpus in the widget", () => {
  const env = useServerAndBrowser();

  async function freshPage(route) {
    const context = await env.browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    const evil = [];
    page.on("request", (r) => { if (/evil\.example/.test(r.url())) evil.push(r.url()); });
    await page.addInitScript(() => { window.__pwned = undefined; });
    await recordWidgetEvents(page);
    if (route) await route(page);
    await page.goto(env.server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.getByRole("dialog").waitFor();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 60_000 });
    return { page, watch, evil };
  }

  async function say(page, text) {
    const before = await page.evaluate(() => window.__sv.intents.length);
    await page.getByRole("textbox", { name: "Message" }).fill(text);
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForFunction((n) => window.__sv.intents.length > n, before);
  }

  async function nothingRan({ page, watch, evil }) {
    await page.waitForTimeout(300); // an onerror/onload would have fired by now
    assert.equal(await page.evaluate(() => window.__pwned), undefined, "a payload ran");
    assert.deepEqual(await page.evaluate(forbiddenInPage, "#sottovoce-widget"), []);
    assert.deepEqual(evil, [], "nothing is fetched from evil.example");
    assert.deepEqual(await watch.all(), []);
  }

  test("visitor: every payload typed is shown as the same text and runs nothing", async () => {
    const run = await freshPage();
    // Control characters other than tab and newline never reach the box as typed; the rest do.
    const typed = corpus.payloads.map((p) => p.replace(/[\u0000-\u0008\u000b-\u001f]/g, ""));
    for (const text of typed) await say(run.page, text);
    const shown = await run.page.locator('[data-from="visitor"] p').allTextContents();
    assert.deepEqual(shown, typed.map((t) => t.trim()));
    await nothingRan(run);
    await run.page.context().close();
  });

  test("owner: reply text, Markdown links of every URL form, quick reply and link labels", async () => {
    const definition = JSON.stringify(injectionBot());
    const run = await freshPage((page) => page.route("**/bots/store.common.svm", (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: definition })));
    // The greeting's Markdown links: an anchor for exactly the forms the widget allows.
    const anchors = await run.page.locator('[data-from="bot"] a').evaluateAll((as) => as.map((a) => [a.textContent, a.href]));
    const labelled = new Map(anchors.map(([text, href]) => [text, href]));
    corpus.links.forEach((c, i) => {
      if (/[\s()]/.test(c.url)) return; // not Markdown link syntax: stays text, checked below by the DOM scan
      assert.equal(labelled.has(`L${i}`), c.widget, `${JSON.stringify(c.url)} → ${labelled.get(`L${i}`)}`);
    });
    await say(run.page, "attack");
    const controls = /[\u0000-\u001f]/g;
    const texts = (await run.page.locator('[data-from="bot"]').allTextContents()).map((t) => t.replace(controls, ""));
    for (const p of corpus.payloads) {
      const visible = p.replace(controls, "").split(/\[|\]\(|\)|\*\*/)[0].trim();
      if (visible) assert.ok(texts.some((t) => t.includes(visible)), `owner text ${JSON.stringify(p)} is shown as text`);
    }
    await nothingRan(run);
    await run.page.context().close();
  });
});
