// End to end: what a site owner configures on the script tag and in their stylesheet, and the
// chat niceties (issue 16 items 2 and 3), on the demo page served by `sottovoce serve` with its
// strict CSP, in Debian's headless Chromium. The page's script tag is rewritten per case through
// a route (the server's headers, CSP included, are kept).
//
// Run: make pkg cli && node --test tests/e2e/widget-look.test.mjs
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

const bot = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));
const TAG = '<script src="/sottovoce.js"';

/** The shadow root's element matching `selector`, as a Playwright locator (it pierces open roots). */
const inWidget = (page, selector) => page.locator(`#sottovoce-widget ${selector}`);

describe("the widget's settings, theming, API and chat niceties", () => {
  const env = useServerAndBrowser();

  /**
   * A new context and page on the demo page with `attrs` (a string of attributes) added to the
   * widget's script tag, `head` added to the page's head, and `routes` ([glob, handler]) set up.
   */
  async function demo({ attrs = "", head = "", contextOptions = {}, routes = [] } = {}) {
    const context = await env.browser.newContext({ locale: "en-US", ...contextOptions });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.route(env.server.url, async (route) => {
      const response = await route.fetch();
      const html = (await response.text()).replace(TAG, `${TAG} ${attrs}`).replace("</head>", `${head}</head>`);
      await route.fulfill({ response, body: html });
    });
    for (const [glob, handler] of routes) await page.route(glob, handler);
    await page.goto(env.server.url);
    return { context, page, watch };
  }

  const ready = (page) => page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
  const style = (locator, property) => locator.evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), property);

  test("data-position, data-color, data-launcher-label, data-open and data-theme", async () => {
    const { context, page, watch } = await demo({
      attrs: 'data-position="bottom-left" data-color="#ffd400" data-launcher-label="Ask us" data-launcher-icon="/img/logo.svg" data-open data-theme="dark"',
    });
    const dialog = page.getByRole("dialog", { name: bot.name });
    await dialog.waitFor(); // open on load, without a click
    await ready(page);
    // The brand colour on the header, with the text colour that contrasts more with it.
    const header = inWidget(page, ".sv-header");
    assert.equal(await style(header, "background-color"), "rgb(255, 212, 0)");
    assert.equal(await style(header, "color"), "rgb(17, 17, 17)");
    // Dark, whatever the visitor's preference.
    assert.equal(await style(inWidget(page, ".sv-panel"), "background-color"), "rgb(23, 32, 28)");
    await page.getByRole("button", { name: "Close chat" }).click();
    const launcher = page.getByRole("button", { name: "Ask us" });
    await launcher.waitFor();
    assert.equal(await launcher.textContent(), "Ask us", "the label is visible text and the accessible name");
    assert.equal(await launcher.locator("img").getAttribute("src"), new URL("/img/logo.svg", env.server.url).href);
    assert.equal(await launcher.locator("svg").count(), 0, "the owner's icon replaces the chat icon");
    const box = await launcher.boundingBox();
    const width = page.viewportSize().width;
    assert.ok(box.x < width / 2, `bottom-left: the launcher at x=${box.x} of ${width}`);
    // Closed by the visitor: the next page load does not open it again.
    await page.reload();
    await ready(page);
    assert.equal(await dialog.count(), 0);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("light and dark follow prefers-color-scheme; the page themes through custom properties and ::part", async () => {
    const css = "#sottovoce-widget { --sv-radius: 3px; --sv-font: Georgia, serif; }\n" +
      "#sottovoce-widget::part(launcher) { outline: 4px solid rgb(1, 2, 3); }\n";
    const { context, page, watch } = await demo({
      head: '<link rel="stylesheet" href="/owner-theme.css">',
      routes: [["**/owner-theme.css", (route) => route.fulfill({ status: 200, contentType: "text/css", body: css })]],
    });
    await ready(page);
    const launcher = page.getByRole("button", { name: "Open chat" });
    assert.equal(await style(launcher, "outline-color"), "rgb(1, 2, 3)", "::part(launcher) from the page");
    await launcher.click();
    const panel = inWidget(page, ".sv-panel");
    assert.equal(await style(panel, "border-top-left-radius"), "3px");
    assert.match(await style(panel, "font-family"), /Georgia/);
    await page.emulateMedia({ colorScheme: "dark" });
    assert.equal(await style(panel, "background-color"), "rgb(23, 32, 28)");
    await page.emulateMedia({ colorScheme: "light" });
    assert.equal(await style(panel, "background-color"), "rgb(255, 255, 255)");
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("setLocale, show, hide and destroy from the page", async () => {
    const { context, page, watch } = await demo();
    await ready(page);
    assert.equal(await page.evaluate(() => window.sottovoce.setLocale("es-MX")), "es");
    const launcher = page.getByRole("button", { name: "Abrir chat" });
    await launcher.waitFor();
    const refused = await page.evaluate(() => window.sottovoce.setLocale("xx").then(() => "set", (e) => e.name));
    assert.equal(refused, "RangeError");
    await page.evaluate(() => window.sottovoce.hide());
    await launcher.waitFor({ state: "hidden" });
    await page.evaluate(() => window.sottovoce.show());
    await launcher.waitFor();
    const key = `sottovoce:v1:${bot.id}`;
    const stored = await page.evaluate((k) => localStorage.getItem(k), key);
    assert.ok(stored, "the conversation is stored");
    await page.evaluate(() => window.sottovoce.destroy());
    assert.equal(await page.locator("#sottovoce-widget").count(), 0, "the widget's DOM is gone");
    assert.equal(await page.evaluate((k) => localStorage.getItem(k), key), stored, "storage stays");
    // Calls after destroy do nothing visible and throw nothing.
    await page.evaluate(() => { window.sottovoce.open(); window.sottovoce.show(); });
    assert.equal(await page.locator("#sottovoce-widget").count(), 0);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("the unread count: a reply while closed, the greeting after data-greeting-delay", async () => {
    const { context, page, watch } = await demo();
    await ready(page);
    const badge = inWidget(page, ".sv-badge");
    assert.ok(await badge.isHidden(), "the greeting drawn at load is not unread");
    await page.evaluate(() => window.sottovoce.send("what time do you close on Saturdays?"));
    await page.getByRole("button", { name: "Open chat, Unread messages: 1" }).waitFor();
    assert.equal(await badge.textContent(), "1");
    await page.evaluate(() => window.sottovoce.open());
    await page.getByRole("dialog").waitFor();
    assert.ok(await badge.isHidden(), "opening clears it");
    assert.deepEqual(await watch.all(), []);
    await context.close();

    const delayed = await demo({ attrs: 'data-greeting-delay="0.3"' });
    await delayed.page.getByRole("button", { name: "Open chat, Unread messages: 1" }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await delayed.watch.all(), []);
    await delayed.context.close();
  });

  test("an agent's reply while the panel is closed counts as unread", async () => {
    // The escalation server is stubbed: it accepts the escalation, and its event stream answers
    // with one agent message once the test lets it (after the visitor has closed the panel).
    let release;
    const agentSpeaks = new Promise((resolve) => { release = resolve; });
    const stream = 'event: message\nid: 1\ndata: {"id":1,"author":"agent","text":"Hi, Luis here."}\n\n';
    const { context, page, watch } = await demo({
      routes: [
        ["**/api/escalations", (route) => route.fulfill({ status: 201, contentType: "application/json", body: '{"id":"e1","token":"t1"}' })],
        ["**/api/escalations/e1/events**", async (route) => {
          await agentSpeaks;
          await route.fulfill({ status: 200, contentType: "text/event-stream", body: stream });
        }],
      ],
    });
    await ready(page);
    await page.getByRole("button", { name: "Open chat" }).click();
    const textbox = page.getByRole("textbox", { name: "Message" });
    await textbox.fill("can I get a real person please");
    await textbox.press("Enter");
    await page.getByRole("button", { name: "Connect me" }).click();
    await page.getByRole("button", { name: "Close chat" }).click();
    release();
    await page.getByRole("button", { name: "Open chat, Unread messages: 1" }).waitFor({ timeout: 10_000 });
    assert.equal(await inWidget(page, ".sv-badge").textContent(), "1");
    await page.getByRole("button", { name: "Open chat, Unread messages: 1" }).click();
    await inWidget(page, '[data-from="agent"]').filter({ hasText: "Hi, Luis here." }).waitFor();
    assert.ok(await inWidget(page, ".sv-badge").isHidden());
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("Markdown in replies: lists, strong, emphasis and links, built from nodes", async () => {
    const { context, page, watch } = await demo();
    await ready(page);
    await page.getByRole("button", { name: "Open chat" }).click();
    const textbox = page.getByRole("textbox", { name: "Message" });
    const lastBot = () => inWidget(page, '[data-from="bot"]').last();
    await textbox.fill("how should I wash my down jacket?");
    await textbox.press("Enter");
    await page.waitForFunction(() => window.__sv.intents.length === 1);
    assert.equal(await page.evaluate(() => window.__sv.intents[0].intent), "product_care");
    const items = lastBot().getByRole("listitem");
    assert.equal(await items.count(), 3);
    assert.equal(await items.first().locator("strong").textContent(), "Waterproof shells:");
    assert.equal(await lastBot().locator("p").first().textContent(), "Always check the care label first.");

    await textbox.fill("what do you charge for shipping on a $40 order");
    await textbox.press("Enter");
    await page.waitForFunction(() => window.__sv.intents.length === 2);
    assert.equal(await lastBot().locator("strong").textContent(), "free");
    assert.equal(await lastBot().locator("em").textContent(), "Express shipping");
    const link = lastBot().getByRole("link", { name: "returns page" });
    assert.equal(await link.getAttribute("href"), "https://cumbre.example/returns");
    assert.match(await link.getAttribute("rel"), /noopener/);
    assert.doesNotMatch(await lastBot().locator("p").textContent(), /\*|\]\(/, "no markers left");
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("a reply that tries HTML and a javascript: link is shown as text", async () => {
    const mini = JSON.parse(readFileSync(join(ROOT, "tests/fixtures/bots/mini.json"), "utf8"));
    mini.messages.en["hours-reply"] = '<img src=x onerror="window.__pwned=1"> **open** [run](javascript:window.__pwned=2) [ok](https://mini.example/x) \\*literal\\*';
    const { context, page, watch } = await demo({
      attrs: 'data-load="open"',
      routes: [["**/bots/store.common.svm", (route) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(mini) })]],
    });
    await page.getByRole("button", { name: "Open chat" }).click();
    await ready(page);
    const textbox = page.getByRole("textbox", { name: "Message" });
    await textbox.fill("when are you open");
    await textbox.press("Enter");
    await page.waitForFunction(() => window.__sv.intents.length === 1);
    const bubble = inWidget(page, '[data-from="bot"]').last();
    assert.equal(await bubble.locator("img").count(), 0);
    assert.equal(await bubble.locator("p").textContent(), '<img src=x onerror="window.__pwned=1"> open run ok *literal*');
    assert.equal(await bubble.locator("strong").textContent(), "open");
    assert.deepEqual(await bubble.locator("a").evaluateAll((as) => as.map((a) => a.href)),
      ["https://mini.example/x", "https://mini.example/stores"], "only the https link, then the reply's own link");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("a typing indicator while the bot loads, and a time on every message for screen readers", async () => {
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    const { context, page, watch } = await demo({
      attrs: 'data-load="open"',
      routes: [["**/bots/store.common.svm", async (route) => { await held; await route.continue(); }]],
    });
    await page.getByRole("button", { name: "Open chat" }).click();
    const textbox = page.getByRole("textbox", { name: "Message" });
    await textbox.fill("hi! is anyone there?");
    await textbox.press("Enter");
    const typing = inWidget(page, ".sv-typing");
    await typing.waitFor();
    assert.equal(await page.getByRole("log").getAttribute("aria-busy"), "true");
    release();
    await page.waitForFunction(() => window.__sv.intents.length === 1, null, { timeout: 30_000 });
    await typing.waitFor({ state: "detached" });
    assert.equal(await page.getByRole("log").getAttribute("aria-busy"), null);
    const times = await inWidget(page, "[data-from] time.sv-sr-only").evaluateAll((ts) => ts.map((t) => [t.textContent, t.dateTime]));
    assert.equal(times.length, await inWidget(page, "[data-from]").count());
    for (const [text, iso] of times) {
      // en-US's short time ("4:32 PM") of the moment in the datetime attribute, today's date left out.
      assert.match(text, /^\d{1,2}:\d{2}\s[AP]M$/u);
      assert.equal(text, await page.evaluate((at) => new Intl.DateTimeFormat("en-US", { timeStyle: "short" }).format(new Date(at)), iso));
    }
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("mobile: full screen in the visual viewport, modal with focus kept inside, reduced motion", async () => {
    const { context, page, watch } = await demo({
      contextOptions: { viewport: { width: 390, height: 700 }, hasTouch: true, isMobile: true, reducedMotion: "reduce" },
    });
    await ready(page);
    await page.getByRole("button", { name: "Open chat" }).click();
    const dialog = page.getByRole("dialog", { name: bot.name });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute("aria-modal"), "true");
    const panel = inWidget(page, ".sv-panel");
    assert.equal(await style(panel, "animation-name"), "none", "no slide-in with reduced motion");
    const fits = async (height) => {
      const box = await panel.boundingBox();
      assert.deepEqual([box.x, box.y, box.width, Math.round(box.height)], [0, 0, 390, height]);
      const input = await page.getByRole("textbox", { name: "Message" }).boundingBox();
      assert.ok(input.y + input.height <= height, `the input (bottom ${input.y + input.height}) is inside the ${height} px viewport`);
    };
    await fits(700);
    // An on-screen keyboard shrinks the visual viewport: the panel follows.
    await page.setViewportSize({ width: 390, height: 420 });
    await page.waitForFunction(() => getComputedStyle(document.querySelector("#sottovoce-widget")).getPropertyValue("--sv-vv-height") === "420px");
    await fits(420);
    // Tab and Shift+Tab stay in the panel.
    const inside = () => page.evaluate(() => {
      const root = document.querySelector("#sottovoce-widget").shadowRoot;
      return !!root.activeElement && root.querySelector(".sv-panel").contains(root.activeElement);
    });
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      assert.ok(await inside(), `focus inside the panel after ${i + 1} Tab`);
    }
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Shift+Tab");
      assert.ok(await inside(), `focus inside the panel after ${i + 1} Shift+Tab`);
    }
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});
