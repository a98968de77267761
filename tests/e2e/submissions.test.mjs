// End to end, the forms that send something to the shop (issue 20 items 3 and 5), in the demo
// shop with `sottovoce serve` and a webhook receiver this test starts:
// - a group order qualified as a sales lead (what, when, budget, email): its fields are shown
//   exactly, nothing leaves before Send (the network log proves it), then the page hears the
//   `submission` event, the server stores it, the shop's webhook gets `lead.created` signed
//   with HMAC-SHA256, and the lead is listed in the inbox's Leads page;
// - a newsletter sign-up declined with "Don't send": nothing leaves;
// - a back-in-stock alert whose first POST meets a 503: retried, delivered once.
//
// Run: make pkg cli && node --test tests/e2e/submissions.test.mjs
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { ask, isKpiReport, launchChromium, recordWidgetEvents, startServer, until, watchPage } from "./support.mjs";

const EMAIL = "agent@cumbre.example";
const PASSWORD = "demo agent password";
const SECRET = "whsec-e2e-submissions";

/** A webhook receiver: every delivery's headers and raw body. */
function receiver() {
  const deliveries = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () =>
    resolve({ url: `http://127.0.0.1:${server.address().port}/hook`, deliveries, close: () => server.close() })));
}

describe("forms that send something to the shop, only with the visitor's yes", () => {
  let hook, server, browser, page, watch;
  const sent = []; // every request the page makes that is not a GET or an anonymous KPI report

  before(async () => {
    hook = await receiver();
    server = await startServer(["--demo-agent", `${EMAIL}:${PASSWORD}`, "--webhook-url", hook.url, "--webhook-secret", SECRET]);
    browser = await launchChromium();
    page = await (await browser.newContext({ locale: "en-US" })).newPage();
    watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.addInitScript(() => {
      window.__submissions = [];
      document.addEventListener("DOMContentLoaded", () => window.sottovoce?.on("submission", (s) => window.__submissions.push(s)));
    });
    page.on("request", (r) => {
      if (r.method() !== "GET" && !isKpiReport(r.method(), r.url(), r.postData())) sent.push({ url: r.url(), body: r.postData() });
    });
    await page.goto(server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    hook?.close();
  });

  test("a sales lead: shown, sent on Send only, signed to the shop's webhook, listed in the inbox", async () => {
    await ask(page, "do you do bulk orders for a hiking club");
    await ask(page, "by March 15, 2027");
    await ask(page, "about $2,000");
    await ask(page, "my email is coach@club.example");
    const card = page.getByRole("region", { name: "Send to the shop" });
    await card.waitFor();
    const shown = await card.locator("dl").textContent();
    for (const part of ["Forhiking", "When2027-03-15", "Budget2000.00 USD", "Emailcoach@club.example"]) assert.ok(shown.includes(part), shown);
    assert.deepEqual(sent, [], "nothing leaves before Send");
    assert.deepEqual(await page.evaluate(() => window.__submissions), []);

    await card.getByRole("button", { name: "Send", exact: true }).click();
    await card.getByText("Sent. Thank you!").waitFor();
    assert.equal(sent.length, 1);
    assert.match(sent[0].url, /\/api\/submissions$/);
    const body = JSON.parse(sent[0].body);
    assert.deepEqual({ kind: body.kind, locale: body.locale, fields: body.fields },
      { kind: "lead", locale: "en", fields: { what: "hiking", when: "2027-03-15", budget: "2000.00 USD", email: "coach@club.example" } });
    assert.deepEqual(await page.evaluate(() => window.__submissions), [{ kind: "lead", fields: body.fields }]);

    await until(() => hook.deliveries.length >= 1, "the lead.created webhook", 15_000);
    const delivery = hook.deliveries[0];
    assert.equal(delivery.headers["x-sottovoce-event"], "lead.created");
    const expected = "sha256=" + createHmac("sha256", SECRET).update(delivery.body).digest("hex");
    assert.equal(delivery.headers["x-sottovoce-signature"], expected);
    assert.deepEqual(JSON.parse(delivery.body).data.submission.fields, body.fields);

    const agent = await (await browser.newContext({ locale: "en-US" })).newPage();
    const agentWatch = await watchPage(agent);
    await agent.goto(`${server.url}inbox/`);
    await agent.getByLabel("Email").fill(EMAIL);
    await agent.getByLabel("Password").fill(PASSWORD);
    await agent.getByRole("button", { name: "Sign in" }).click();
    await agent.getByRole("link", { name: "Leads" }).click();
    const row = agent.getByRole("row").filter({ hasText: "coach@club.example" });
    await row.waitFor();
    assert.match(await row.textContent(), /Sales lead.*en.*budget2000\.00 USD.*emailcoach@club\.example.*whathiking.*when2027-03-15/s);
    assert.deepEqual(await agentWatch.all(), []);
  });

  test("a newsletter sign-up declined: nothing leaves", async () => {
    const before = sent.length;
    await ask(page, "do you have a newsletter");
    await page.getByRole("button", { name: "Sign me up" }).click();
    await page.waitForFunction(() => window.__sv.messages.at(-1)?.id === "signup-ask-email");
    await ask(page, "ana@visitor.example");
    const card = page.getByRole("region", { name: "Send to the shop" }).last();
    await card.getByText("ana@visitor.example").waitFor();
    await card.getByRole("button", { name: "Don't send" }).click();
    await card.getByText("Nothing was sent.").waitFor();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sent.length, before, "declined: nothing sent");
    assert.equal((await page.evaluate(() => window.__submissions)).length, 1, "the page heard only the lead");
  });

  test("a back-in-stock alert meets a 503 first: retried and delivered once", async () => {
    let refused = 0;
    await page.route("**/api/submissions", (route) => {
      if (refused === 0) {
        refused += 1;
        return route.fulfill({ status: 503, headers: { "retry-after": "1", "content-type": "application/json" }, body: '{"error":{"code":"unavailable","message":"try again"}}' });
      }
      return route.continue();
    });
    await ask(page, "when will the sold out boots be back");
    await page.getByRole("button", { name: "Email me when it's back" }).click();
    await page.waitForFunction(() => window.__sv.messages.at(-1)?.id === "stock-ask-email");
    await ask(page, "ana@visitor.example");
    await ask(page, "the boots");
    const card = page.getByRole("region", { name: "Send to the shop" }).last();
    await card.getByText("boots").waitFor();
    await card.getByRole("button", { name: "Send", exact: true }).click();
    await card.getByText("Sent. Thank you!").waitFor({ timeout: 15_000 });
    assert.equal(refused, 1);
    await until(() => hook.deliveries.some((d) => d.headers["x-sottovoce-event"] === "back_in_stock.requested"), "the back-in-stock webhook", 15_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(hook.deliveries.filter((d) => d.headers["x-sottovoce-event"] === "back_in_stock.requested").length, 1);
    // The refused first attempt is the only console error (Chromium's own line for a 503).
    assert.deepEqual((await watch.all()).filter((p) => !/status of 503/.test(p)), []);
  });
});
