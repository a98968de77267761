// End to end: a visitor on the demo store page asks for a person, sees exactly what will be sent
// (a card number typed earlier redacted), agrees, and talks live with an agent in the inbox of
// the same `sottovoce serve` (fresh SQLite file, demo agent from --demo-agent). Agent replies
// arrive without a reload and survive one; the visitor's replies reach the agent. A second
// visitor's escalation meets a network failure first: the status says it is retrying, and it is
// delivered once the network is back. A server that refuses an escalation (422) is asked once,
// not forever. Both pages run under their strict CSPs with no violation.
//
// Run: make pkg cli && node --test tests/e2e/escalation.test.mjs
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, ask, isKpiReport, launchChromium, openInInbox, recordWidgetEvents, startServer, until, watchPage, writeBrowserResults } from "./support.mjs";

const bot = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));
const EMAIL = "agent@cumbre.example";
const PASSWORD = "demo agent password";
const CARD = "4111 1111 1111 1111";

/** The widget's shadow root text for a selector, read inside the page. */
const shadowText = (page, selector) =>
  page.evaluate((s) => document.querySelector("#sottovoce-widget").shadowRoot.querySelector(s)?.textContent ?? "", selector);

describe("escalation from the widget to the agent inbox", () => {
  let server, browser, visitorContext, agentContext, visitor, agent, visitorWatch, agentWatch;

  before(async () => {
    server = await startServer(["--demo-agent", `${EMAIL}:${PASSWORD}`]);
    for (let i = 0; i < 50 && !/demo agent: /.test(server.output()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(server.output(), /inbox at http:\/\/[\d.]+:\d+\/inbox\//);
    assert.match(server.output(), new RegExp(`demo agent: ${EMAIL} / ${PASSWORD}`));
    browser = await launchChromium();
    visitorContext = await browser.newContext({ locale: "en-US" });
    agentContext = await browser.newContext({ locale: "en-US" });
    visitor = await visitorContext.newPage();
    agent = await agentContext.newPage();
    visitorWatch = await watchPage(visitor);
    agentWatch = await watchPage(agent);
    await recordWidgetEvents(visitor);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });


  test("consent, redaction, live replies both ways, and a reload keeps the agent's words", async () => {
    await visitor.goto(server.url);
    await visitor.getByRole("button", { name: "Open chat" }).click();
    await visitor.getByRole("dialog", { name: bot.name }).waitFor();
    await visitor.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    await ask(visitor, "my name is Marta");
    await ask(visitor, `I was charged twice on my card ${CARD}, I want my money back`);
    // The demo page lists one owner pattern (US social security numbers) in data-escalation-redact.
    await ask(visitor, "do you need my SSN 123-45-6789 for the refund?");
    await ask(visitor, "can I talk to a real person please");
    const intents = await visitor.evaluate(() => window.__sv.intents.map((i) => i.intent));
    assert.equal(intents.at(-1), "human", intents.join(", "));

    // The consent view lists what would be sent, redacted, with the bot's annotations.
    const consent = visitor.getByRole("region", { name: "Talk to a person" });
    await consent.waitFor();
    const preview = await consent.textContent();
    assert.ok(!preview.includes("4111"), preview);
    assert.match(preview, /\[redacted card number\]/);
    assert.ok(!preview.includes("123-45-6789"), preview);
    assert.match(preview, /my SSN \[redacted\] for the refund/);
    assert.match(preview, /can I talk to a real person please \(human, \d+%\)/);
    assert.match(preview, /name: Marta/);
    const consentedAt = Date.now();
    await visitor.getByRole("button", { name: "Connect me" }).click();
    await consent.waitFor({ state: "hidden" });
    await visitor.waitForFunction(() =>
      /Sent to our team/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 15_000 });
    const consentToSentMs = Date.now() - consentedAt;

    // The agent signs in and sees the conversation with annotations, and no card number.
    const transcript = await openInInbox(agent, server.url, EMAIL, PASSWORD, /Marta/);
    await transcript.getByText("can I talk to a real person please").waitFor();
    await transcript.getByText(/intent human · confidence \d+%/).first().waitFor();
    assert.ok(!(await transcript.textContent()).includes("4111"));
    assert.match(await transcript.textContent(), /\[redacted card number\]/);

    // Agent → visitor, live.
    await agent.getByRole("textbox", { name: "Reply" }).fill("Hi Marta, I am Luis. I can see the double charge.");
    const repliedAt = Date.now();
    await agent.getByRole("button", { name: "Send reply" }).click();
    await visitor.locator('[data-from="agent"]').filter({ hasText: "I can see the double charge" }).waitFor({ timeout: 10_000 });
    const agentToVisitorMs = Date.now() - repliedAt;
    const file = writeBrowserResults("escalation", {
      what: "escalation e2e, two headless Chromium contexts and `sottovoce serve` (SQLite) on localhost; " +
        "times seen from the test driver, Playwright polling included",
      consent_click_to_status_sent_ms: consentToSentMs,
      agent_send_click_to_visitor_sees_reply_ms: agentToVisitorMs,
    });
    console.log(`consent to sent: ${consentToSentMs} ms; agent reply to visitor: ${agentToVisitorMs} ms (${file})`);

    // Visitor → agent (goes to the person, not the bot), live in the inbox.
    const botTurns = await visitor.evaluate(() => window.__sv.intents.length);
    await ask(visitor, "thank you Luis, it was on Monday");
    await transcript.getByText("thank you Luis, it was on Monday").waitFor({ timeout: 10_000 });
    assert.equal(await visitor.evaluate(() => window.__sv.intents.length), botTurns, "the bot stays quiet while a person answers");

    // Reload: the agent's message and the status are still there, and the stream resumes.
    await visitor.reload();
    await visitor.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    await visitor.locator('[data-from="agent"]').filter({ hasText: "I can see the double charge" }).waitFor();
    assert.match(await shadowText(visitor, ".sv-esc-status"), /Sent to our team/);
    await agent.getByRole("textbox", { name: "Reply" }).fill("Refund done, Marta.");
    await agent.getByRole("button", { name: "Send reply" }).click();
    await visitor.locator('[data-from="agent"]').filter({ hasText: "Refund done, Marta." }).waitFor({ timeout: 10_000 });
    assert.equal(await visitor.locator('[data-from="agent"]').count(), 2, "no agent message shown twice after the reload");

    // The agent resolves it: the assistant is back and asks how it went (issue 20 item 4); the
    // rating and the comment stay on the device, nothing more reaches the server.
    const posts = [];
    visitor.on("request", (r) => { if (r.method() !== "GET" && !isKpiReport(r.method(), r.url(), r.postData())) posts.push(r.url()); });
    await agent.getByRole("button", { name: "Resolve" }).click();
    const csatAsk = bot.messages.en["csat-ask"];
    await visitor.locator('[data-from="bot"]').filter({ hasText: csatAsk }).waitFor({ timeout: 10_000 });
    await visitor.getByRole("button", { name: "5", exact: true }).click();
    await visitor.getByRole("textbox", { name: "Message" }).fill("Luis was quick and kind");
    await visitor.getByRole("textbox", { name: "Message" }).press("Enter");
    await visitor.locator('[data-from="bot"]').filter({ hasText: bot.messages.en["csat-thanks"] }).waitFor();
    const kept = await visitor.evaluate((key) => JSON.parse(localStorage.getItem(key)).csat.ratings, `sottovoce:v1:${bot.id}`);
    assert.deepEqual(kept.map((r) => [r.rating, r.comment, r.after]), [[5, "Luis was quick and kind", "agent"]]);
    assert.deepEqual(posts, [], "the rating and its comment are not sent");

    assert.deepEqual(await visitorWatch.all(), []);
    assert.deepEqual(await agentWatch.all(), []);
  });

  test("issue 10: a 422 is final: sent once, never retried, the visitor is told and keeps their messages", async () => {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    let attempts = 0;
    await page.route("**/api/escalations", (route) => {
      attempts += 1;
      return route.fulfill({
        status: 422,
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "invalid_field", message: "locale: must be a BCP 47 tag", field: "locale" } }),
      });
    });
    await page.goto(server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    await ask(page, "I'm Rosa");
    await ask(page, "I need to speak to a human");
    await page.getByRole("button", { name: "Connect me" }).click();
    await page.waitForFunction(() =>
      /could not accept this conversation/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 10_000 });
    // Longer than the first two backoff delays (0.5-1 s, 1-2 s): a retry would have happened.
    await page.waitForTimeout(3_500);
    assert.equal(attempts, 1, "a 422 is not sent again");
    const stored = await page.evaluate(() =>
      Object.keys(localStorage).filter((k) => k.endsWith(":escalation")).map((k) => JSON.parse(localStorage.getItem(k)))[0]);
    assert.deepEqual(stored.status, { state: "rejected", attempts: 1, http_status: 422 });
    // Nothing the visitor wrote is lost, and the bot answers again.
    await page.locator('[data-from="visitor"]').filter({ hasText: "I need to speak to a human" }).waitFor();
    const botTurns = await page.evaluate(() => window.__sv.intents.length);
    await ask(page, "what are your opening hours?");
    assert.equal(await page.evaluate(() => window.__sv.intents.length), botTurns + 1, "the bot answers after a refused escalation");
    await page.reload();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    await page.waitForTimeout(1_500);
    assert.equal(attempts, 1, "not resent after a reload either");
    const problems = (await watch.all()).filter((p) => !/status of 422/.test(p)); // the refusal itself
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("the answer is lost, then the page closes mid-send: the next page delivers it once", async () => {
    const context = await browser.newContext({ locale: "en-US" });
    let page = await context.newPage();
    let watch = await watchPage(page);
    await recordWidgetEvents(page);
    let attempts = 0;
    await page.route("**/api/escalations", async (route) => {
      attempts += 1;
      if (attempts === 1) {
        await route.fetch(); // the server stores it...
        return route.abort("connectionreset"); // ...but the answer never reaches the page
      }
      // Later attempts hang until the page is closed.
    });
    await page.goto(server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    await ask(page, "I'm Nico");
    await ask(page, "I need to speak to a human");
    await page.getByRole("button", { name: "Connect me" }).click();
    await page.waitForFunction(() =>
      /Retrying in \d+ s/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 10_000 });
    // A message typed meanwhile waits in the outbox.
    await ask(page, "my order is CU-482913");
    const stored = await page.evaluate(() =>
      Object.keys(localStorage).filter((k) => k.endsWith(":escalation")).map((k) => JSON.parse(localStorage.getItem(k))));
    assert.equal(stored.length, 1);
    assert.ok(["failed", "sending"].includes(stored[0].status.state), JSON.stringify(stored[0].status));
    assert.equal(stored[0].outbox.length, 1);
    // Wait for the second attempt to be in flight (hanging), then close the page mid-send.
    await page.waitForFunction(() =>
      /Connecting you/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 10_000 });
    // The status changes as the widget calls fetch; the route handler may run a moment later.
    await until(() => attempts >= 2, "the second attempt to reach the route");
    assert.equal(attempts, 2);
    const problems = (await watch.all()).filter((p) => !/ERR_CONNECTION_RESET/.test(p)); // the lost answer itself
    assert.deepEqual(problems, []);
    await page.close();

    page = await context.newPage();
    watch = await watchPage(page);
    await page.goto(server.url);
    await page.getByRole("dialog").waitFor(); // reopened as the visitor left it
    await page.waitForFunction(() =>
      /Sent to our team/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status")?.textContent ?? ""),
    null, { timeout: 20_000 });

    // One conversation, not two (the retry carried the same idempotency key), and the message once.
    await agent.getByRole("button", { name: /Nico/ }).click();
    const transcript = agent.getByRole("log", { name: "Transcript" });
    await transcript.getByText("my order is CU-482913").waitFor({ timeout: 10_000 });
    assert.equal(await agent.getByRole("button", { name: /Nico/ }).count(), 1);
    assert.equal(await transcript.getByText("my order is CU-482913").count(), 1);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});

describe("escalation while the server is down", () => {
  let dir, server, browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sottovoce-down-"));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("an offered person accepted, the server stops before consent: retrying, then delivered once it is back, without duplicates", async () => {
    const db = join(dir, "escalations.db");
    server = await startServer(["--db", db]);
    const port = new URL(server.url).port;
    const page = await (await browser.newContext({ locale: "en-US" })).newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.goto(server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill("call me Nina");
    await box.press("Enter");
    await page.locator('[data-from="bot"]').nth(1).waitFor();
    // The dialogue offers a person after a complaint; the visitor accepts with the button.
    // (A complaint the classifier is sure of: "my jacket fell apart after two days" is also a
    // warranty question, answered as one once the familiar-wording rule acts on it at 0.31.)
    await box.fill("this is terrible, I am really unhappy with your service");
    await box.press("Enter");
    await page.getByRole("group", { name: "Suggestions" }).getByRole("button", { name: "Talk to a person" }).click();
    await page.getByRole("button", { name: "Connect me" }).waitFor();

    await server.stop(); // the real process is gone: connections are refused
    server = null;
    await page.getByRole("button", { name: "Connect me" }).click();
    const status = () => page.evaluate(() =>
      document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent);
    await page.waitForFunction(() =>
      /Retrying in \d+ s/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 10_000 });
    await box.fill("are you there?");
    await box.press("Enter");
    await page.locator('[data-from="visitor"]').filter({ hasText: "are you there?" }).waitFor();

    server = await startServer(["--port", port, "--db", db]);
    await page.waitForFunction(() =>
      /Sent to our team/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 40_000 });
    assert.match(await status(), /Sent to our team/);

    // Read back with the visitor's own token: the escalation and the waiting message, once each.
    const stored = await page.evaluate(() =>
      Object.keys(localStorage).filter((k) => k.endsWith(":escalation")).map((k) => JSON.parse(localStorage.getItem(k)))[0]);
    assert.equal(stored.status.state, "sent");
    const read = async () => (await fetch(`${server.url}api/escalations/${stored.status.id}/messages`, {
      headers: { authorization: `Bearer ${stored.status.token}` },
    })).json();
    let messages = (await read()).messages;
    for (let i = 0; i < 50 && !messages.some((m) => m.text === "are you there?"); i++) {
      await new Promise((r) => setTimeout(r, 200));
      messages = (await read()).messages;
    }
    assert.equal(messages.filter((m) => m.text === "are you there?").length, 1, JSON.stringify(messages));
    assert.equal(messages.filter((m) => m.text === "Talk to a person").length, 1, JSON.stringify(messages));
    const problems = (await watch.all()).filter((p) => !/ERR_CONNECTION_REFUSED/.test(p));
    assert.deepEqual(problems, []);
  });
});
