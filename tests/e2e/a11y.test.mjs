// End to end: the demo page with the widget meets WCAG 2.1 AA as far as axe-core can tell
// (issue 16 item 4), with the panel closed, open, in the middle of a form and in the consent
// view, in light and in dark; and the widget works with the keyboard alone. axe-core (a dev
// dependency) is evaluated into the page by the test, so the page's strict CSP stays as served.
//
// Run: make pkg cli && node --test tests/e2e/a11y.test.mjs
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
const bot = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));

/** axe's WCAG 2.0/2.1 A and AA rules over the whole page (open shadow roots included): one line per violating node. */
async function violations(page) {
  // Colours are measured once the panel's entrance animation is over (it fades in).
  await page.waitForFunction(() => {
    const root = document.querySelector("#sottovoce-widget")?.shadowRoot;
    return !root || root.getAnimations().every((a) => a.playState !== "running" || a.effect.getTiming().iterations === Infinity);
  });
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    resultTypes: ["violations"],
  }));
  return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")}: ${n.failureSummary.replace(/\s+/g, " ")}`));
}

describe("accessibility of the demo page with the widget", () => {
  const env = useServerAndBrowser();

  for (const colorScheme of ["light", "dark"]) {
    test(`axe finds nothing, ${colorScheme}: closed, open, mid-form, consent view`, async () => {
      const context = await env.browser.newContext({ locale: "en-US", colorScheme });
      const page = await context.newPage();
      const watch = await watchPage(page);
      await recordWidgetEvents(page);
      await page.goto(env.server.url);
      await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
      assert.deepEqual(await violations(page), [], "closed");

      await page.getByRole("button", { name: "Open chat" }).click();
      await page.getByRole("dialog", { name: bot.name }).waitFor();
      assert.deepEqual(await violations(page), [], "open");

      const textbox = page.getByRole("textbox", { name: "Message" });
      const ask = async (text) => {
        const n = await page.evaluate(() => window.__sv.intents.length);
        await textbox.fill(text);
        await textbox.press("Enter");
        await page.waitForFunction((k) => window.__sv.intents.length > k, n);
      };
      await ask("I want to check on my order");
      assert.deepEqual(await violations(page), [], "mid-form");

      await ask("cancel");
      await ask("can I get a real person please");
      await page.getByRole("region", { name: "Talk to a person" }).waitFor();
      assert.deepEqual(await violations(page), [], "consent view");
      // axe adds <style> elements to measure, which the page's CSP refuses (harmlessly for its
      // results); the widget's own CSP-cleanliness is checked by the suites that run no axe.
      const axeStyles = /style-src|Applying inline style/;
      assert.deepEqual((await watch.all()).filter((p) => !axeStyles.test(p)), []);
      await context.close();
    });
  }

  test("axe finds nothing with an unread badge on the launcher, nor in the mobile full-screen panel", async () => {
    const context = await env.browser.newContext({ locale: "en-US", viewport: { width: 390, height: 700 }, hasTouch: true, isMobile: true });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.goto(env.server.url);
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    await page.evaluate(() => window.sottovoce.send("what time do you close on Saturdays?"));
    const launcher = page.getByRole("button", { name: "Open chat, Unread messages: 1" });
    await launcher.waitFor();
    assert.deepEqual(await violations(page), [], "closed, one unread");
    await launcher.click();
    await page.getByRole("dialog", { name: bot.name }).waitFor();
    assert.deepEqual(await violations(page), [], "mobile, open");
    const axeStyles = /style-src|Applying inline style/; // as above
    assert.deepEqual((await watch.all()).filter((p) => !axeStyles.test(p)), []);
    await context.close();
  });

  test("keyboard: Enter and Space open, Escape closes and returns focus, the log is polite", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.goto(env.server.url);
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    const launcher = page.getByRole("button", { name: "Open chat" });
    const dialog = page.getByRole("dialog", { name: bot.name });
    const focused = () => page.evaluate(() => {
      const root = document.querySelector("#sottovoce-widget").shadowRoot;
      const el = root.activeElement;
      return el ? el.getAttribute("aria-label") || el.textContent.trim() : null;
    });
    // The launcher is reached with Tab from the page (it comes after the page's own content).
    await page.locator("footer a").last().focus();
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "Open chat");
    for (const key of ["Enter", "Space"]) {
      await page.keyboard.press(key);
      await dialog.waitFor();
      assert.equal(await focused(), "Message", `${key} opens the chat with focus in the input`);
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      assert.equal(await focused(), "Open chat", "Escape returns focus to the launcher");
    }
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    const log = page.getByRole("log", { name: "Conversation" });
    assert.equal(await log.getAttribute("aria-live"), "polite");
    // Every control of the panel by keyboard: Tab from the input reaches Send, Shift+Tab the
    // header's buttons (on a wide screen the panel is not modal, so Tab then leaves it).
    const seen = new Set();
    await page.keyboard.press("Tab");
    seen.add(await focused());
    await page.getByRole("textbox", { name: "Message" }).focus();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Shift+Tab");
      seen.add(await focused());
    }
    for (const name of ["Send", "Close chat", "Start over", "Conversation"]) assert.ok(seen.has(name), `${name} reached by Tab: ${[...seen].join(" | ")}`);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});
