// End to end, issue 14: the owner's loop. A visitor chats on the demo shop, whose owner turned
// anonymous KPI reports on (data-kpis="on"); the report that leaves the browser holds counts only
// (checked field by field, and none of the visitor's words); a question the bot could not answer
// is shared only when the visitor says yes; the owner (the demo agent is one) sees the
// conversation in the dashboard's figures, charts and CSV and the shared question under
// "Top unanswered questions"; an agent who is not an owner is refused.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT, isKpiReport, launchChromium, startServer, watchPage } from "./support.mjs";

const OWNER = "owner@cumbre.example";
const PASSWORD = "dashboard test password";
const AGENT = "agent@cumbre.example";

describe("the owner's dashboard", () => {
  let server, browser, db, dir;

  before(async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    dir = mkdtempSync(join(tmpdir(), "sottovoce-dashboard-"));
    db = join(dir, "escalations.db");
    server = await startServer(["--demo-agent", `${OWNER}:${PASSWORD}`, "--db", db]);
    const add = spawnSync(join(ROOT, "target", "release", "sottovoce"), ["agent", "add", "--db", db, "--email", AGENT, "--password-stdin"], {
      input: `${PASSWORD}\n`,
      encoding: "utf8",
    });
    assert.equal(add.status, 0, add.stderr);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    const { rmSync } = await import("node:fs");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(page, email) {
    await page.goto(`${server.url}inbox/`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#agent-email").getByText(email).waitFor();
  }

  test("a visitor's conversation reaches the owner's figures as counts only", async () => {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    const reports = [];
    const shared = [];
    page.on("request", (r) => {
      if (isKpiReport(r.method(), r.url(), r.postData())) reports.push(r.postData());
      else if (/\/api\/feedback$/.test(r.url())) shared.push(JSON.parse(r.postData()));
    });
    await page.goto(server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    const box = page.getByRole("textbox", { name: "Message" });
    const said = ["how long does shipping to Canada take?", "zorblax quintessence flummox", "flibber wobble gronk"];
    const say = async (text) => {
      const before = await page.locator('[data-from="bot"]').count();
      await box.fill(text);
      await box.press("Enter");
      await page.waitForFunction((n) => document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll('[data-from="bot"]').length > n, before);
    };
    const offer = page.getByRole("button", { name: "Share this question with the shop so the bot can learn" });
    await say(said[0]);
    assert.equal(await offer.count(), 0, "an answered question is not offered for sharing");
    // A question the bot could not answer may be shared: shown first, sent only on yes.
    await say(said[1]);
    await offer.click();
    await page.locator(".sv-share-text").getByText(said[1], { exact: true }).waitFor();
    await page.getByRole("button", { name: "Not now" }).click();
    assert.equal(await offer.count(), 0);
    await say(said[2]);
    await offer.click();
    await page.getByRole("button", { name: "Share it" }).click();
    await page.getByText("Sent. Thank you!").waitFor();
    assert.equal(shared.length, 1, "only the question agreed to");
    assert.deepEqual(Object.keys(shared[0]).sort(), ["id", "locale", "text"]);
    assert.equal(shared[0].text, said[2]);
    // After a turn the widget waits a few seconds; leaving the tab sends at once.
    const response = page.waitForResponse((r) => /\/api\/kpis$/.test(r.url()) && r.request().method() === "POST", { timeout: 15_000 });
    assert.equal((await response).status(), 204);
    const last = JSON.parse(reports.at(-1));
    assert.equal(last.kpis.messages, 3);
    assert.equal(last.kpis.fallbacks, 2, "the nonsense lines were fallbacks");
    for (const body of reports) for (const text of said) assert.ok(!body.includes(text), `no visitor text in ${body}`);
    // The visitor is told, under "What I remember".
    await page.getByRole("button", { name: "What I remember" }).click();
    await page.getByText("This site counts conversations anonymously").waitFor();
    assert.deepEqual(await watch.all(), []);
    await context.close();

    // The owner's dashboard.
    const owner = await (await browser.newContext({ locale: "en-US" })).newPage();
    const ownerWatch = await watchPage(owner);
    await signIn(owner, OWNER);
    await owner.getByRole("link", { name: "Dashboard" }).click();
    const cards = owner.locator("#cards");
    await cards.getByText("Conversations").waitFor();
    const value = async (label) => (await cards.locator(".card").filter({ hasText: label }).locator("dd").textContent());
    assert.equal(await value("Conversations"), "1");
    assert.equal(await value("Fallback rate"), "66.7%");
    assert.equal(await owner.locator("#rates path.series").count(), 3, "three rate lines");
    assert.equal(await owner.locator("#csat rect.bar").count(), 5);
    const intents = await owner.locator("#intents td:first-child").allTextContents();
    assert.ok(intents.some((name) => /shipping/.test(name)), `top intents: ${intents}`);
    assert.equal(await owner.locator("#locales td:first-child").first().textContent(), "en");
    const csv = await owner.evaluate(async () => (await fetch(document.getElementById("csv").href)).text());
    const [header, row] = csv.trim().split("\n");
    assert.ok(header.startsWith("day,locale,conversations,contained"), header);
    assert.match(row, /^\d{4}-\d\d-\d\d,en,1,/);
    // The one question shared, and nothing the visitor refused to send.
    assert.deepEqual(await owner.locator("#unanswered td:nth-child(2)").allTextContents(), [said[2]]);
    // The owner's loop closes offline: the download is what `sottovoce suggest` reads.
    const jsonl = await owner.evaluate(async () => (await fetch(document.getElementById("jsonl").href)).text());
    assert.deepEqual(jsonl.trim().split("\n").map((l) => JSON.parse(l)), [{ text: said[2], locale: "en" }]);
    const { writeFileSync, readFileSync } = await import("node:fs");
    writeFileSync(join(dir, "unanswered.jsonl"), jsonl);
    const suggest = spawnSync(join(ROOT, "target", "release", "sottovoce"),
      ["suggest", "--bot", join(ROOT, "www", "bots", "store.json"), "--unmatched", join(dir, "unanswered.jsonl"), "--patch", join(dir, "patch.json")],
      { encoding: "utf8" });
    assert.equal(suggest.status, 0, suggest.stderr);
    // One question is too few for a candidate intent: it is read, and left in no group.
    assert.match(suggest.stdout, /1 unmatched utterances/);
    assert.match(suggest.stdout, /in no group: 1/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "patch.json"), "utf8")), []);
    assert.deepEqual(await ownerWatch.all(), []);

    // An agent who is not an owner sees no link and is refused.
    const agent = await (await browser.newContext({ locale: "en-US" })).newPage();
    await signIn(agent, AGENT);
    assert.equal(await agent.getByRole("link", { name: "Dashboard" }).isVisible(), false);
    await agent.goto(`${server.url}inbox/dashboard.html`);
    await agent.getByRole("alert").getByText("only an owner sees the numbers").waitFor();
  });
});
