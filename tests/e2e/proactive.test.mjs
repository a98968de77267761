// End to end: proactive teasers, cart abandonment and the satisfaction question on the demo shop
// (issue 20 items 1, 2, 4),
// with the page's clock installed and fast-forwarded (Playwright's page.clock), so idle time,
// caps per visit and new visits take no real time. A visitor adds a jacket to the cart and goes
// idle: a quiet teaser appears beside the launcher (the panel stays closed), is announced
// politely, and opens the chat with its buttons for the usual blockers. Exit intent, a
// dismissal that quiets the visit, "No tips" that holds until it is forgotten under What I
// remember, a purchase that empties the cart, the owner's preview (?sottovoce-trigger=ID), and
// the site's outcome events. The network log proves nothing about it leaves the browser.
//
// Run: make pkg cli && node --test tests/e2e/proactive.test.mjs
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, isKpiReport, recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

const bot = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));
const en = bot.messages.en;
const HOUR = 3_600_000;
const START = new Date("2026-12-04T10:00:00Z");

describe("proactive teasers on the demo shop", () => {
  const env = useServerAndBrowser();
  let context, page, watch;
  const requests = [];

  const teaser = () => page.getByRole("region", { name: "A tip from the assistant" });
  const dialog = () => page.getByRole("dialog", { name: bot.name });
  const outcomes = () => page.evaluate(() => window.cumbreOutcomes.slice());
  const exitIntent = () => page.evaluate(() => document.dispatchEvent(new MouseEvent("mouseout", { clientY: -4, bubbles: true })));

  /** Loads `path` and waits for the bot (the clock runs on to fire the idle-time start). */
  async function load(path = "/") {
    await page.goto(new URL(path, env.server.url).href);
    await page.clock.runFor(1500);
    await page.waitForFunction(() => window.__sv && window.__sv.ready !== null, null, { timeout: 30_000 });
  }

  /** A new visit: the clock moves on `hours` (two: the same day), then `path` loads again. */
  async function nextVisit(path = "/", hours = 2) {
    await page.clock.setSystemTime(new Date((await page.evaluate(() => Date.now())) + hours * HOUR));
    await load(path);
  }

  test("items in the cart and 45 idle seconds: a teaser beside the launcher, the chat opened by a click", async () => {
    context = await env.browser.newContext({ locale: "en-US" });
    page = await context.newPage();
    page.on("request", (r) => requests.push({ method: r.method(), url: r.url(), body: r.postData() }));
    watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.clock.install({ time: START });
    await load();

    await page.getByRole("button", { name: "Add to cart" }).first().click();
    assert.equal(await page.locator(".cart-count").textContent(), "1");
    await page.clock.fastForward(30_000);
    assert.equal(await teaser().isVisible(), false, "30 s idle is not enough");
    await page.clock.fastForward(20_000);
    await teaser().waitFor({ state: "visible" });
    const text = await teaser().textContent();
    assert.match(text, /Still deciding about your cart\?.*Code CUMBRE10 takes 10% off/);
    assert.equal(await dialog().isVisible(), false, "a teaser never opens the panel by itself");
    const live = await page.evaluate(() =>
      document.querySelector("#sottovoce-widget").shadowRoot.querySelector("p.sv-teaser-live[aria-live=polite]")?.textContent ?? "");
    assert.match(live, /A tip from the assistant: Still deciding/, "announced politely");
    assert.deepEqual(await outcomes(), ["proactive:shown cart-idle"]);

    await page.getByRole("button", { name: /Open the chat about this tip/ }).click();
    await dialog().waitFor({ state: "visible" });
    assert.equal(await teaser().isVisible(), false);
    assert.match(await page.locator('[data-from="bot"]').last().textContent(), /Still deciding about your cart/);
    const titles = ["shipping_costs-title", "shipping_times-title", "returns-title", "sizing-title"].map((k) => en[k]);
    for (const title of titles) await page.getByRole("button", { name: title, exact: true }).waitFor();
    await page.getByRole("button", { name: en["shipping_costs-title"], exact: true }).click();
    await page.waitForFunction(() => window.__sv.intents.length > 0);
    assert.equal(await page.evaluate(() => window.__sv.intents.at(-1).intent), "shipping_costs");
    assert.deepEqual(await outcomes(), ["proactive:shown cart-idle", "proactive:clicked cart-idle"]);

    // The conversation ends with thanks: "How did I do?" with buttons 1 to 5, then an optional
    // comment (skipped here), kept on the device only (the last test checks the network log).
    const lastBot = () => page.locator('[data-from="bot"]').last();
    await page.getByRole("textbox", { name: "Message" }).fill("thanks, that's what I needed");
    await page.getByRole("textbox", { name: "Message" }).press("Enter");
    await page.waitForFunction(() => window.__sv.intents.at(-1).intent === "thanks");
    assert.equal(await lastBot().locator("p").textContent(), en["csat-ask"]);
    for (const n of ["1", "2", "3", "4", "5"]) await page.getByRole("button", { name: n, exact: true }).waitFor();
    await page.getByRole("button", { name: "4", exact: true }).click();
    await page.getByRole("button", { name: en["csat-skip"], exact: true }).click();
    await page.waitForFunction((t) => [...document.querySelector("#sottovoce-widget").shadowRoot
      .querySelectorAll('[data-from="bot"] p')].at(-1)?.textContent === t, en["csat-thanks"]);
    const stored = await page.evaluate((key) => JSON.parse(localStorage.getItem(key)), `sottovoce:v1:${bot.id}`);
    assert.deepEqual(stored.csat.ratings.map((r) => [r.rating, r.comment ?? null, r.after]), [[4, null, "chat"]]);
    await page.getByRole("button", { name: "Close chat" }).click();
    await page.clock.fastForward(120_000);
    assert.equal(await teaser().isVisible(), false, "once a visit");
  });

  test("exit intent with items in the cart; a dismissal quiets the rest of the visit", async () => {
    await nextVisit();
    await exitIntent();
    await teaser().waitFor({ state: "visible" });
    assert.deepEqual((await outcomes()).at(-1), "proactive:shown cart-exit");
    await page.getByRole("button", { name: "Dismiss tip" }).click();
    assert.equal(await teaser().isVisible(), false);
    assert.equal((await outcomes()).at(-1), "proactive:dismissed cart-exit");
    await page.clock.fastForward(120_000);
    await exitIntent();
    assert.equal(await teaser().isVisible(), false, "nothing else this visit");
  });

  test("No tips holds across visits until it is forgotten under What I remember", async () => {
    await page.clock.fastForward(60_000);
    assert.equal(await teaser().isVisible(), false, "the cart teasers were shown today already (cap: once a day)");
    await nextVisit("/", 24);
    await page.clock.fastForward(60_000);
    await teaser().waitFor({ state: "visible" });
    await page.getByRole("button", { name: "No tips" }).click();
    assert.equal((await outcomes()).at(-1), "proactive:dismissed cart-idle");
    await nextVisit("/checkout.html");
    await page.clock.fastForward(60_000);
    await exitIntent();
    assert.equal(await teaser().isVisible(), false, "no tips, on every page");

    await page.getByRole("button", { name: "Open chat" }).click();
    await page.getByRole("button", { name: "What I remember" }).click();
    const fact = page.getByRole("listitem").filter({ hasText: "You turned tips off" });
    await fact.waitFor();
    await fact.getByRole("button", { name: /Forget/ }).click();
    await page.getByRole("button", { name: "Close chat" }).click();
    await exitIntent();
    await teaser().waitFor({ state: "visible" });
    assert.equal((await outcomes()).at(-1), "proactive:shown cart-exit", "tips are back");
    await page.getByRole("button", { name: "Dismiss tip" }).click();
  });

  test("a purchase on the checkout page empties the cart: no cart teaser after it", async () => {
    await nextVisit("/checkout.html");
    assert.match(await page.locator("#checkout-items").textContent(), /Ridgeline Rain Shell/);
    await page.getByRole("button", { name: "Place order" }).click();
    assert.equal(await page.locator(".cart-count").textContent(), "0");
    await nextVisit("/checkout.html", 24);
    await exitIntent();
    assert.equal(await teaser().isVisible(), false, "no cart, no cart-exit");
    // A minute on the page, scrolled to its end, with an empty cart: the help for choosing,
    // which a full cart rules out, shows instead of the cart teasers.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.clock.fastForward(60_000);
    await teaser().waitFor({ state: "visible" });
    assert.equal((await outcomes()).at(-1), "proactive:shown browse-help");
  });

  test("the owner previews a trigger with ?sottovoce-trigger=ID, caps and conditions aside", async () => {
    await nextVisit("/?sottovoce-trigger=browse-help");
    await teaser().waitFor({ state: "visible" });
    assert.match(await teaser().textContent(), new RegExp(en["proactive-browse"].slice(0, 30).replace(/[?]/g, "\\?")));
  });

  test("after Forget me, page events save nothing until the visitor writes again", async () => {
    await nextVisit();
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.getByRole("button", { name: "What I remember" }).click();
    await page.getByRole("button", { name: "Forget me" }).click();
    await page.getByRole("button", { name: "Close chat" }).click();
    for (let i = 0; i < 8; i++) await page.clock.fastForward(10_000); // 16 ticks, 80 s
    await exitIntent();
    const left = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("sottovoce:v1:") && !k.includes(":ui:")));
    assert.deepEqual(left, []);
  });

  test("nothing about the cart, the teasers or the tips left the browser, and the CSP held", async () => {
    // The owner turned anonymous KPI reports on (data-kpis="on"): counts only, checked field by
    // field; anything else sent is a failure.
    const sent = requests.filter((r) => (r.method !== "GET" || r.body) && !isKpiReport(r.method, r.url, r.body));
    assert.deepEqual(sent, [], "only GETs, without bodies, and counts-only KPI reports");
    const asset = /\/(|index\.html|checkout\.html|shop\.js|store\.css|sottovoce\.(js|css)|img\/[\w-]+\.svg|l10n\/[\w-]+\.json|pkg\/[\w.-]+|bots\/[\w.-]+|catalog\/[\w.-]+)(\?sottovoce-trigger=browse-help)?$/;
    const others = requests.filter((r) => !asset.test(new URL(r.url).pathname + new URL(r.url).search) && !isKpiReport(r.method, r.url, r.body));
    assert.deepEqual(others.map((r) => r.url), [], "only the site's own files");
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
  test("after destroy(), the page's events and the tick reach the bot no more", async () => {
    const ctx = await env.browser.newContext({ locale: "en-US" });
    const p = await ctx.newPage();
    const w = await watchPage(p);
    await recordWidgetEvents(p);
    await p.addInitScript(() => {
      window.__writes = 0;
      const set = Storage.prototype.setItem;
      Storage.prototype.setItem = function (key, value) {
        if (String(key).startsWith("sottovoce:")) window.__writes++;
        return set.call(this, key, value);
      };
    });
    await p.clock.install({ time: START });
    await p.goto(env.server.url);
    await p.clock.runFor(1500);
    await p.waitForFunction(() => window.__sv && window.__sv.ready !== null, null, { timeout: 30_000 });
    await p.getByRole("button", { name: "Add to cart" }).first().click();
    await p.evaluate(() => window.sottovoce.destroy());
    const before = await p.evaluate(() => window.__writes);
    for (const type of ["pointermove", "keydown"]) await p.evaluate((t) => window.dispatchEvent(new Event(t)), type);
    await p.evaluate(() => document.dispatchEvent(new MouseEvent("mouseout", { clientY: -4, bubbles: true })));
    await p.clock.fastForward(180_000); // three times the idle the cart teaser needs, and three minutes of ticks
    assert.equal(await p.evaluate(() => window.__writes), before, "no state written after destroy()");
    assert.equal(await p.locator("#sottovoce-widget").count(), 0);
    assert.deepEqual(await w.all(), []);
    await ctx.close();
  });
});
