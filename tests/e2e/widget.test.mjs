// End to end: the real widget on the demo page, served by the real `sottovoce serve` with its
// strict CSP, in Debian's headless Chromium. A customer opens the chat by its accessible name,
// asks questions in their own words, tracks an order (a bad number, then a good one), says their
// name, reloads, and comes back later. Also records the time from navigation to the first bot
// message in bench-results/browser.json.
//
// Run: make pkg cli && node --test tests/e2e/
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, launchChromium, recordWidgetEvents, startServer, watchPage, writeBrowserResults } from "./support.mjs";

const script = JSON.parse(readFileSync(join(ROOT, "tests/e2e/customer-questions.json"), "utf8"));
const bot = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));
const en = bot.messages[bot.locales[0]];
const STORAGE_KEY = `sottovoce:v1:${bot.id}`;
const HOUR = 3_600_000;

/** Lower case, letters and digits only: how "is this a training example?" is decided. */
const normalise = (s) => s.toLowerCase().normalize("NFC").replace(/[^\p{L}\p{N}]+/gu, " ").trim();

describe("the widget on the demo page", () => {
  let server, browser, context, page, watch;

  before(async () => {
    server = await startServer();
    browser = await launchChromium();
    context = await browser.newContext({ locale: "en-US" });
    page = await context.newPage();
    watch = await watchPage(page);
    await recordWidgetEvents(page);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const textbox = () => page.getByRole("textbox", { name: "Message" });
  const dialog = () => page.getByRole("dialog", { name: bot.name });
  const lastBot = () => page.locator('[data-from="bot"]').last();

  /** Types `text`, presses Enter, waits for the turn's intent event and returns it. */
  async function ask(text) {
    const before = await page.evaluate(() => window.__sv.intents.length);
    await textbox().fill(text);
    await textbox().press("Enter");
    await page.waitForFunction((n) => window.__sv.intents.length > n, before, { timeout: 10_000 });
    assert.equal(await textbox().inputValue(), "", "the input is cleared once the bot has the message");
    return page.evaluate(() => window.__sv.intents.at(-1));
  }

  test("loads under the strict CSP and greets first", async () => {
    const response = await page.goto(server.url);
    const csp = response.headers()["content-security-policy"];
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.match(csp, /style-src 'self';/);
    await page.waitForFunction(() => window.__sv.firstBotMs !== null, null, { timeout: 30_000 });
    const timing = await page.evaluate(() => ({ firstBotMs: window.__sv.firstBotMs, ready: window.__sv.ready }));
    assert.equal(timing.ready.storage, "local");
    assert.equal(timing.ready.source, "model", "the demo page loads the compiled model");
    const file = writeBrowserResults("e2e", {
      what: "demo page in headless Chromium, served by `sottovoce serve` (localhost)",
      navigation_to_first_bot_message_ms: Math.round(timing.firstBotMs),
      widget_start_to_ready_ms: Math.round(timing.ready.loadMs),
      bot_source: timing.ready.source,
    });
    console.log(`# navigation to first bot message: ${Math.round(timing.firstBotMs)} ms (written to ${file})`);
    assert.deepEqual(await watch.all(), []);
  });

  test("opens by the launcher's accessible name, with the documented roles", async () => {
    await page.getByRole("button", { name: "Open chat" }).click();
    await dialog().waitFor();
    await page.getByRole("log").waitFor();
    assert.equal(await page.getByRole("button", { name: "Send" }).count(), 1);
    assert.equal(await page.getByRole("button", { name: "Start over" }).count(), 1);
    assert.equal(await page.getByRole("button", { name: "Close chat" }).count(), 1);
    assert.ok(await textbox().evaluate((el) => el.getRootNode().activeElement === el), "focus moves to the input");
    assert.equal(await lastBot().locator("p").textContent(), en[bot.greeting.message]);
    // The greeting's quick replies are real buttons.
    const chips = page.getByRole("group", { name: "Suggestions" }).getByRole("button");
    assert.equal(await chips.count(), bot.greeting.quick_replies.length);
  });

  test("answers customers' own phrasings with the right intents", async () => {
    const examples = new Set(bot.intents.flatMap((i) => Object.values(i.examples).flat()).map(normalise));
    const wrong = [];
    for (const q of script.questions) {
      assert.ok(!examples.has(normalise(q.text)), `"${q.text}" is a training example; write a customer's own phrasing`);
      const turn = await ask(q.text);
      if (turn.intent !== q.intent) wrong.push(`"${q.text}": expected ${q.intent}, got ${turn.intent} (${turn.confidence})`);
    }
    assert.ok(script.questions.length >= 10);
    assert.deepEqual(wrong, []);
    assert.deepEqual(await watch.all(), []);
  });

  test("asking for a person answers with the owner's contact options", async () => {
    const turn = await ask(script.handoff.text);
    assert.equal(turn.intent, script.handoff.intent);
    assert.equal(turn.handoff, true);
    const mail = lastBot().locator(`a[href="mailto:${bot.contact.email}"]`);
    assert.equal(await mail.count(), 1, await lastBot().innerHTML());
    assert.equal(await mail.getAttribute("target"), "_blank");
    assert.match(await mail.getAttribute("rel"), /noopener/);
  });

  test("tracks an order: re-prompts on a bad number, then links the tracking page", async () => {
    const order = script.order;
    assert.equal((await ask(order.start.text)).intent, order.start.intent);
    const prompt = en[bot.forms[0].slots[0].prompt];
    assert.equal(await lastBot().locator("p").textContent(), prompt);

    await ask(order.bad);
    const invalid = en[bot.forms[0].slots[0].invalid];
    const texts = await page.locator('[data-from="bot"] p').allTextContents();
    assert.ok(texts.slice(-2).includes(invalid), `expected the re-prompt, got: ${texts.slice(-2).join(" / ")}`);

    await ask(order.good);
    const link = page.locator(`a[href="https://cumbre.example/track/${order.number}"]`);
    assert.equal(await link.count(), 1, await lastBot().innerHTML());
    assert.match(await link.getAttribute("rel"), /noopener/);
  });

  test("remembers the visitor's name in the stored profile", async () => {
    const turn = await ask(script.name.text);
    assert.equal(turn.intent, script.name.intent);
    const stored = JSON.parse(await page.evaluate((k) => localStorage.getItem(k), STORAGE_KEY));
    assert.equal(stored.profile.name, script.name.name);
  });

  test("after a reload the panel, the transcript and the name are still there", async () => {
    const before = await page.getByRole("log").locator("[data-from] p").allTextContents();
    await page.reload();
    await dialog().waitFor(); // reopened without a click: the open state persists too
    await page.waitForFunction(() => window.__sv.ready !== null);
    const afterReload = await page.getByRole("log").locator("[data-from] p").allTextContents();
    assert.deepEqual(afterReload, before);
    assert.equal(await page.locator(`a[href="https://cumbre.example/track/${script.order.number}"]`).count(), 1);
    assert.ok(afterReload.includes(script.name.text));
    const stored = JSON.parse(await page.evaluate((k) => localStorage.getItem(k), STORAGE_KEY));
    assert.equal(stored.profile.name, script.name.name);
  });

  test("a visit two hours later is greeted by name, with the order they were tracking", async () => {
    await page.clock.setSystemTime(Date.now() + 2 * HOUR);
    await page.reload();
    await dialog().waitFor();
    await page.waitForFunction(() => window.__sv.ready !== null);
    // The order tracked earlier is an open topic (greeting.topics): the returning greeting
    // picks it up, by name.
    const greeting = `Welcome back, ${script.name.name}! Last time you were tracking order ${script.order.number}. Did it arrive?`;
    assert.equal(await lastBot().locator("p").textContent(), greeting);
    const stored = JSON.parse(await page.evaluate((k) => localStorage.getItem(k), STORAGE_KEY));
    assert.equal(stored.profile.visits, 2);
  });

  test("quick replies, Start over, Escape and the page API", async () => {
    await page.getByRole("button", { name: "Start over" }).click();
    await page.waitForFunction(() => document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll("[data-from]").length === 1);
    assert.equal(await lastBot().locator("p").textContent(), en[bot.greeting.message]);
    const stored = JSON.parse(await page.evaluate((k) => localStorage.getItem(k), STORAGE_KEY));
    assert.equal(stored.profile.name, null, "Start over forgets the visitor");

    const track = bot.greeting.quick_replies.find((q) => q.intent === "order_status");
    await page.getByRole("button", { name: en[track.label] }).click();
    await page.waitForFunction(() => window.__sv.intents.at(-1)?.intent === "order_status");
    assert.equal(await lastBot().locator("p").textContent(), en[bot.forms[0].slots[0].prompt]);

    await textbox().press("Escape");
    await dialog().waitFor({ state: "hidden" });
    const launcher = page.getByRole("button", { name: "Open chat" });
    assert.ok(await launcher.evaluate((el) => el.getRootNode().activeElement === el), "focus returns to the launcher");

    const api = await page.evaluate(() => ({
      frozen: Object.isFrozen(window.sottovoce),
      keys: Object.keys(window.sottovoce).sort(),
      replaced: (() => { try { window.sottovoce = null; } catch { /* strict */ } return window.sottovoce !== null; })(),
    }));
    assert.deepEqual(api, { frozen: true, keys: ["close", "configureEscalation", "destroy", "hide", "identify", "on", "open", "reset", "send", "setLocale", "show", "track"], replaced: true });
    await page.evaluate(() => window.sottovoce.open());
    await dialog().waitFor();
    const turn = await page.evaluate(() => window.sottovoce.send("cancel").then((t) => t.intent));
    assert.equal(turn, "cancel");
    assert.deepEqual(await watch.all(), []);
  });

  test("the return form survives a reload, answers a side question, and opens the return", async () => {
    const lastText = () => lastBot().locator("p").textContent();
    assert.equal((await ask("start a return for order CU-300400")).intent, "start_return");
    assert.equal(await lastText(), en["return-ask-item"]);

    await page.reload();
    await dialog().waitFor();
    await page.waitForFunction(() => window.__sv.ready !== null);
    assert.equal(await lastText(), en["return-ask-item"], "the form's question is still the last message");

    assert.equal((await ask("what's your return policy?")).intent, "returns");
    assert.equal(await lastText(), en["return-ask-item"], "after the side question the form asks again");
    await ask("the backpack");
    assert.equal(await lastText(), en["return-ask-reason"]);
    await ask("it's damaged");
    assert.equal(await lastText(), en["return-ask-resolution"]);
    await ask("a refund please");
    const confirm = await lastText();
    for (const part of ["backpack", "CU-300400", "damaged", "refund"]) assert.ok(confirm.includes(part), `"${part}" in: ${confirm}`);

    await page.getByRole("button", { name: "Yes, open it" }).click();
    const link = page.locator('a[href="https://cumbre.example/returns/CU-300400"]');
    await link.waitFor();
    assert.deepEqual(await watch.all(), []);
  });
});
