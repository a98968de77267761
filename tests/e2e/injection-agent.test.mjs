// End to end: the injection corpus (tests/fixtures/injection/corpus.json, issue 21 item 5)
// through the agent's text paths, in Chromium under both pages' strict CSPs, on one
// `sottovoce serve` (widget, escalation server and inbox; fresh SQLite file, demo agent):
// - every payload an agent sends reaches the visitor's widget as text: nothing runs
//   (window.__pwned stays unset, no CSP violation, no page error), nothing is fetched from
//   evil.example, and the widget's DOM holds no script-like element, no event handler and no
//   href/src outside http, https, mailto and tel (agent text gets the bot's Markdown links);
// - every payload a visitor sends is shown in the agent inbox as the same text, under the same
//   checks on the inbox's document.
// The visitor's and owner's paths: tests/e2e/injection.test.mjs; the core's: tests/injection.rs.
//
// Run: make pkg cli && node --test tests/e2e/injection-agent.test.mjs
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, forbiddenInPage, launchChromium, openInInbox, recordWidgetEvents, startServer, watchPage } from "./support.mjs";

const corpus = JSON.parse(readFileSync(join(ROOT, "tests/fixtures/injection/corpus.json"), "utf8"));
const EMAIL = "agent@cumbre.example";
const PASSWORD = "demo agent password";
/** What of a payload must be visible as text: control characters aside, and for Markdown only
 *  the part before its first link or emphasis (which the widget renders, as it does the bot's). */
const controls = /[\u0000-\u001f]/g;
const visiblePart = (p) => p.replace(controls, "").split(/\[|\]\(|\)|\*\*/)[0].trim();

describe("the injection corpus through the agent and the inbox", () => {
  let server, browser;

  before(async () => {
    server = await startServer(["--demo-agent", `${EMAIL}:${PASSWORD}`]);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A page in a fresh context that records requests to evil.example and any script effect. */
  async function watchedPage() {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    const evil = [];
    page.on("request", (r) => { if (/evil\.example/.test(r.url())) evil.push(r.url()); });
    await page.addInitScript(() => { window.__pwned = undefined; });
    return { page, watch, evil };
  }

  async function nothingRan({ page, watch, evil }, host) {
    await page.waitForTimeout(300); // an onerror/onload would have fired by now
    assert.equal(await page.evaluate(() => window.__pwned), undefined, "a payload ran");
    assert.deepEqual(await page.evaluate(forbiddenInPage, host), []);
    assert.deepEqual(evil, [], "nothing is fetched from evil.example");
    assert.deepEqual(await watch.all(), []);
  }

  /** Signs the demo agent in through the API; returns the cookie header value. */
  async function agentCookie() {
    const response = await fetch(`${server.url}api/agent/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
    });
    assert.equal(response.status, 200, await response.text());
    return response.headers.get("set-cookie").split(";")[0];
  }

  test("agent: every payload an agent sends is shown in the widget as text and runs nothing", async () => {
    const run = await watchedPage();
    const { page } = run;
    await recordWidgetEvents(page);
    await page.goto(server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.getByRole("dialog").waitFor();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 60_000 });
    await page.getByRole("textbox", { name: "Message" }).fill("can I talk to a real person please");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByRole("button", { name: "Connect me" }).click();
    await page.waitForFunction(() =>
      /Sent to our team/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 15_000 });

    const cookie = await agentCookie();
    const list = await (await fetch(`${server.url}api/agent/conversations`, { headers: { cookie } })).json();
    const conversations = list.conversations ?? list;
    assert.equal(conversations.length, 1, JSON.stringify(list));
    for (const text of corpus.payloads) {
      const sent = await fetch(`${server.url}api/agent/conversations/${conversations[0].id}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ text }),
      });
      assert.equal(sent.status, 201, `${JSON.stringify(text)}: ${await sent.text()}`);
    }
    const agentMessages = page.locator('[data-from="agent"]');
    await page.waitForFunction((n) =>
      document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll('[data-from="agent"]').length >= n,
    corpus.payloads.length, { timeout: 20_000 });
    const shown = (await agentMessages.allTextContents()).map((t) => t.replace(controls, ""));
    assert.equal(shown.length, corpus.payloads.length, "each agent message shown once");
    corpus.payloads.forEach((p, i) => {
      const visible = visiblePart(p);
      if (visible) assert.ok(shown[i].includes(visible), `agent text ${JSON.stringify(p)} is shown as text: ${JSON.stringify(shown[i])}`);
    });
    await nothingRan(run, "#sottovoce-widget");
    await page.context().close();
  });

  test("inbox: every payload a visitor sends is shown to the agent as the same text and runs nothing", async () => {
    const created = await fetch(`${server.url}api/escalations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        locale: "en",
        profile: { name: "Mallory" },
        transcript: corpus.payloads.map((text) => ({ author: "visitor", text, intent: "human", confidence: 0.9 })),
      }),
    });
    assert.equal(created.status, 201, await created.text());
    const run = await watchedPage();
    const { page } = run;
    const log = await openInInbox(page, server.url, EMAIL, PASSWORD, /Mallory/);
    await log.locator("li.message.visitor").nth(corpus.payloads.length - 1).waitFor();
    const shown = await log.locator("li.message.visitor p.text").allTextContents();
    // Exactly what the visitor sent, character for character (the server stores text as text).
    assert.deepEqual(shown, corpus.payloads);
    await nothingRan(run, null);
    await page.context().close();
  });
});
