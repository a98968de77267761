// End to end: the agent inbox of the escalation server, in Debian's headless Chromium under the
// server's strict CSP. An agent signs in, sees an escalation with the bot's annotations, uses a
// suggested reply, and sees new conversations and visitor messages arrive without reloading.
// Visitor text that looks like HTML stays text. The queue is triaged: most urgent first, each
// with its reason and a ticking waiting clock; an agent takes a conversation, filters to theirs,
// and answers with a canned reply whose variables are filled.
//
// Needs the server binary (`cargo build -p sottovoce-server`, or `cargo test --workspace`) and
// the `sottovoce` CLI (`make cli`, or a debug build) for `sottovoce agent add`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, launchChromium, watchPage } from "./support.mjs";

const EMAIL = "luis@shop.example";
const PASSWORD = "inbox test password";

/** The most recently built of target/release/<name> and target/debug/<name>. */
function binary(name) {
  const found = ["release", "debug"]
    .map((profile) => join(ROOT, "target", profile, name))
    .filter((path) => existsSync(path))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (found.length === 0) {
    throw new Error(`target/*/${name} is missing: run \`cargo build -p sottovoce-server -p sottovoce-cli\``);
  }
  return found[0];
}

/** Waits until the async `condition` holds, polling every 50 ms. */
async function eventually(condition, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startEscalationServer(db) {
  const child = spawn(
    binary("sottovoce-server"),
    ["--addr", "127.0.0.1:0", "--db", db, "--inbox-bot", join(ROOT, "crates/sottovoce-server/tests/fixtures/bot.json")],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`sottovoce-server exited with ${code}: ${output}`)));
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

describe("the agent inbox", () => {
  let dir, server, browser, page, watch;

  const escalate = async (name, transcript, locale = "en") => {
    const response = await fetch(`${server.url}/api/escalations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ locale, profile: { name }, transcript }),
    });
    assert.equal(response.status, 201);
    return response.json();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sottovoce-inbox-"));
    const db = `sqlite://${join(dir, "inbox.db")}?mode=rwc`;
    const add = spawnSync(binary("sottovoce"), ["agent", "add", "--db", db, "--email", EMAIL, "--password-stdin"], {
      input: `${PASSWORD}\n`,
      encoding: "utf8",
    });
    assert.equal(add.status, 0, add.stderr);
    server = await startEscalationServer(db);
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    watch = await watchPage(page);
  });

  after(async () => {
    await browser?.close();
    server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("sign in, read the annotated transcript, reply with a suggestion, get live updates", async () => {
    const ana = await escalate("Ana", [
      { author: "visitor", text: "can I send this jacket back?", intent: "returns", confidence: 0.91, sentiment: -0.5 },
      { author: "bot", text: "You can return unworn items within 30 days." },
      { author: "visitor", text: "<img src=x onerror=alert(1)> I want a person", intent: "returns", confidence: 0.64 },
    ]);

    await page.goto(`${server.url}/inbox/`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "wrong email or password" }).waitFor();
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();

    const item = page.getByRole("button", { name: /Ana/ });
    await item.click();
    const log = page.getByRole("log", { name: "Transcript" });
    await log.getByText("can I send this jacket back?").waitFor();
    await log.getByText("intent returns · confidence 91% · sentiment -0.50").waitFor();
    // Agent assist: the summary and what the visitor agreed to share, before the transcript.
    assert.equal(await page.locator("#summary").textContent(), "Asked about returns · mood steady (-0.50 → -0.50) · 2 visitor messages");
    assert.deepEqual(await page.locator("#about-visitor dt, #about-visitor dd").allTextContents(), ["name", "Ana"]);
    // HTML in a message is shown as the characters the visitor typed.
    await log.getByText("<img src=x onerror=alert(1)> I want a person").waitFor();
    assert.equal(await log.locator("img").count(), 0);

    // The suggestion is the bot's own reply for the last intent, links included.
    const suggestion = page.getByRole("button", { name: /You can return unworn items within 30 days/ });
    await suggestion.click();
    const reply = page.getByRole("textbox", { name: "Reply" });
    assert.match(await reply.inputValue(), /Returns portal: https:\/\/shop\.example\/returns/);
    await reply.fill("Hi Ana, I have started your return.");
    await page.getByRole("button", { name: "Send reply" }).click();
    await log.getByText("Hi Ana, I have started your return.").waitFor();
    const read = await (await fetch(`${server.url}/api/escalations/${ana.id}/messages`, {
      headers: { authorization: `Bearer ${ana.token}` },
    })).json();
    assert.equal(read.messages.at(-1).author, "agent");

    // Live: a visitor message and a new conversation appear without a reload.
    const posted = await fetch(`${server.url}/api/escalations/${ana.id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ana.token}` },
      body: JSON.stringify({ text: "thank you so much!" }),
    });
    assert.equal(posted.status, 201);
    await log.getByText("thank you so much!").waitFor({ timeout: 5000 });
    await escalate("Bruno", [{ author: "visitor", text: "do you ship to Chile?", intent: "international_shipping", confidence: 0.8 }]);
    await page.getByRole("button", { name: /Bruno/ }).waitFor({ timeout: 5000 });

    // Resolve: Ana leaves the open list.
    await page.getByRole("button", { name: "Resolve" }).click();
    await page.getByRole("button", { name: /Ana/ }).waitFor({ state: "detached", timeout: 5000 });

    // The one failed request is the deliberate wrong password above; anything else is a bug.
    const problems = await watch.all();
    const wrongPassword = problems.filter((p) => /status of 401/.test(p));
    assert.equal(wrongPassword.length, 1, problems.join("\n"));
    assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), []);
  });

  test("the queue puts the most urgent first, says why, and the agent takes it and answers with a canned reply", async () => {
    const twentyMinutesAgo = Date.now() - 20 * 60_000;
    await escalate("Dario", [{ author: "visitor", text: "what are your opening hours?", sentiment: 0.2 }], "es-MX");
    await escalate("Carla", [
      { author: "visitor", text: "my order never arrived", at_ms: twentyMinutesAgo, sentiment: -0.8 },
      { author: "visitor", text: "this is the third time I ask", at_ms: twentyMinutesAgo + 1000, sentiment: -1 },
    ]);
    await page.goto(`${server.url}/inbox/`);
    const items = page.locator("#conversations button.item");
    await page.getByRole("button", { name: /Carla/ }).waitFor();
    const names = await items.locator(".name").allTextContents();
    assert.equal(names[0], "Carla", names.join(", "));
    assert.ok(names.indexOf("Dario") > 0, names.join(", "));
    const carla = items.first();
    assert.equal(await carla.locator(".band").textContent(), "high · 76");
    assert.equal(await carla.locator(".why").textContent(), "Why here: waiting 20 min +40 · unhappy (sentiment -0.90) +36");
    // The waiting clock ticks from the server's clock.
    const clock = carla.locator(".waiting");
    const first = await clock.textContent();
    assert.match(first, /^waiting 20:\d\d$/);
    await eventually(async () => (await clock.textContent()) !== first, "the waiting clock ticks", 3000);
    await page.locator("#team").getByText(`${EMAIL} (online)`).waitFor();

    // Take it, then show only mine.
    await carla.click();
    await page.locator("#conversation-priority").getByText(/^Priority high \(76\)/).waitFor();
    await page.getByRole("button", { name: "Take" }).click();
    await page.locator("#assignee").getByText(`Assigned to ${EMAIL}`).waitFor();
    await page.getByLabel("Show").selectOption("me");
    await eventually(async () => (await items.locator(".name").allTextContents()).join() === "Carla", "only Carla is mine");
    await page.getByLabel("Language").fill("es");
    await page.getByLabel("Show").selectOption("");
    await eventually(async () => (await items.locator(".name").allTextContents()).join() === "Dario", "only Dario writes Spanish");
    await page.getByLabel("Language").fill("");
    await eventually(async () => (await items.locator(".name").allTextContents()).length === 3, "the whole queue again");

    // A canned reply with variables, filled for Carla and for this agent.
    await page.getByText("New canned reply").click();
    await page.getByLabel("Title").fill("Apology");
    await page.getByLabel("Text", { exact: true }).fill("Sorry for the wait, {name}. This is {agent}; I am on it.");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("button", { name: "Apology" }).click();
    const reply = page.getByRole("textbox", { name: "Reply" });
    assert.equal(await reply.inputValue(), "Sorry for the wait, Carla. This is luis; I am on it.");
    await page.getByRole("button", { name: "Send reply" }).click();
    await page.getByRole("log", { name: "Transcript" }).getByText("Sorry for the wait, Carla.", { exact: false }).waitFor();
    // Answered: no longer waiting, so only the mood counts.
    await eventually(async () => (await carla.locator(".waiting").textContent()) === "answered", "Carla is answered");

    const problems = await watch.all();
    assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), []);
  });
});
