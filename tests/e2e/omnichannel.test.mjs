// End to end, the night-time escalation path (issue 22 items 1-3) with a real SMTP server that
// this test starts (a TCP server speaking RFC 5321; the escalation server's mail crate talks to
// it over a socket):
// 1. Nobody is online: the consent view and then the widget say so, and when to expect an
//    answer; the visitor gives an email address (refused without the consent box), an agent
//    answers, the email arrives in the visitor's locale with a signed link; the link opened on
//    another device (a fresh browser context) reopens the conversation with the agent's reply;
//    the visitor's emailed answer comes back into the same conversation; a transcript by email.
// 2. The mobile example (www/app.html) under Chromium's phone emulation with touch: the native
//    Help button opens the chat through the bridge, the panel fills the screen, the assistant
//    answers offline, and a signed-in customer who escalated on one phone sees the conversation
//    and the agent's reply on another.
//
// Run: make pkg cli && node --test tests/e2e/omnichannel.test.mjs
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:net";
import { devices } from "playwright-core";
import { ask, launchChromium, recordWidgetEvents, startServer, until, watchPage } from "./support.mjs";

const EMAIL = "agent@cumbre.example";
const PASSWORD = "demo agent password";
const VISITOR_EMAIL = "marta@visitor.example";
const INBOUND_SECRET = "inbound-e2e-secret";
const IDENTITY_SECRET = "identity-e2e-secret";

/** A minimal SMTP server: every message's DATA lands in `mails` (dot-unstuffed, CRLF lines). */
function smtpServer() {
  const mails = [];
  const server = createServer((socket) => {
    socket.setEncoding("utf8");
    let buffer = "";
    let data = null;
    socket.write("220 e2e-smtp ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data !== null) {
          if (line === ".") { mails.push(data); data = null; socket.write("250 queued\r\n"); }
          else data += (line.startsWith("..") ? line.slice(1) : line) + "\r\n";
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") socket.write("250-e2e-smtp\r\n250 8BITMIME\r\n");
        else if (verb === "DATA") { data = ""; socket.write("354 end with <CRLF>.<CRLF>\r\n"); }
        else if (verb === "QUIT") { socket.end("221 bye\r\n"); }
        else if (["HELO", "MAIL", "RCPT", "RSET", "NOOP"].includes(verb)) socket.write("250 OK\r\n");
        else socket.write("502 not implemented\r\n");
      }
    });
    socket.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: server.address().port, mails, close: () => server.close() })));
}

/** A free TCP port on loopback (the server needs its own URL for the links it emails). */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const port = s.address().port; s.close(() => resolve(port)); });
  });
}

/** Headers and decoded text body of one raw email (7bit, quoted-printable or base64). */
function parseMail(raw) {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const headers = {};
  for (const line of head.split("\r\n")) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.slice(split + 4);
  const encoding = (headers["content-transfer-encoding"] || "7bit").toLowerCase();
  if (encoding === "quoted-printable") {
    const bytes = Buffer.from(body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))), "latin1");
    body = bytes.toString("utf8");
  } else if (encoding === "base64") {
    body = Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  }
  return { headers, body };
}

const shadow = (page, selector) =>
  page.evaluate((s) => document.querySelector("#sottovoce-widget").shadowRoot.querySelector(s)?.textContent ?? "", selector);

describe("the conversation follows the customer", () => {
  let smtp, server, browser, cookie;
  const problems = [];

  before(async () => {
    smtp = await smtpServer();
    const port = await freePort();
    server = await startServer([
      "--port", String(port), "--demo-agent", `${EMAIL}:${PASSWORD}`,
      "--smtp-host", "127.0.0.1", "--smtp-port", String(smtp.port), "--smtp-tls", "none",
      "--mail-from", "Cumbre <support@cumbre.example>", "--public-url", `http://127.0.0.1:${port}/`,
      "--shop-name", "Cumbre", "--inbound-mail-secret", INBOUND_SECRET, "--identity-secret", IDENTITY_SECRET,
      "--business-hours", "mon-fri 09:00-18:00 +00:00",
    ]);
    browser = await launchChromium();
    const login = await fetch(`${server.url}api/agent/login`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
    });
    assert.equal(login.status, 200);
    cookie = login.headers.get("set-cookie").split(";")[0];
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    smtp?.close();
    assert.deepEqual(problems, []);
  });

  async function page(context) {
    const p = await context.newPage();
    const watch = await watchPage(p);
    await recordWidgetEvents(p);
    return { p, watch };
  }


  async function conversations() {
    const list = await (await fetch(`${server.url}api/agent/conversations`, { headers: { cookie } })).json();
    return list.conversations;
  }

  async function agentReply(id, text) {
    const r = await fetch(`${server.url}api/agent/conversations/${id}/messages`, {
      method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify({ text }),
    });
    assert.equal(r.status, 201, await r.text());
  }

  test("nobody online: email given with consent, the reply emailed, its link reopens the conversation elsewhere, the emailed answer comes back", async () => {
    const night = await browser.newContext({ locale: "en-US" });
    const { p: visitor, watch } = await page(night);
    await visitor.goto(server.url);
    await visitor.getByRole("button", { name: "Open chat" }).click();
    await visitor.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    await ask(visitor, "my parcel never arrived and the tracking stopped a week ago");
    await ask(visitor, "can I talk to a real person please");

    // Before the visitor agrees: nobody is online, and when an answer can be expected.
    const consent = visitor.getByRole("region", { name: "Talk to a person" });
    await consent.waitFor();
    await consent.getByText(/Nobody from our team is online right now\. You can expect an answer from \w+day/).waitFor();
    await visitor.getByRole("button", { name: "Connect me" }).click();
    await visitor.waitForFunction(() =>
      /Sent to our team/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 15_000 });

    // The offer to continue by email: no consent, no request; then a bad address; then given.
    const address = visitor.getByRole("textbox", { name: "Your email" });
    await address.waitFor({ timeout: 10_000 });
    const emailPosts = [];
    visitor.on("request", (r) => { if (/\/email$/.test(r.url())) emailPosts.push(JSON.parse(r.postData())); });
    await address.fill(VISITOR_EMAIL);
    await visitor.getByRole("button", { name: "Email me", exact: true }).click();
    await visitor.getByRole("alert").filter({ hasText: "Tick the box to agree first" }).waitFor();
    assert.deepEqual(emailPosts, [], "nothing is sent before the visitor ticks the box");
    await visitor.getByRole("checkbox", { name: /I agree that the support team writes to this address/ }).check();
    await address.fill("marta at visitor");
    // The browser's own check of type=email stops this one; the server's 422 is covered in tests/omni.rs.
    await address.fill(VISITOR_EMAIL);
    await visitor.getByRole("button", { name: "Email me", exact: true }).click();
    await visitor.getByText(`We will write to ${VISITOR_EMAIL} when someone answers`).waitFor();
    assert.deepEqual(emailPosts, [{ email: VISITOR_EMAIL, consent: true }]);

    // The agent answers in the morning: the email arrives, in English, with a link.
    const [conversation] = await conversations();
    await agentReply(conversation.id, "Good morning Marta, I have asked the carrier; a new parcel leaves today.");
    await until(() => smtp.mails.length >= 1, "the reply by email", 15_000);
    const mail = parseMail(smtp.mails[0]);
    assert.match(mail.headers.to, new RegExp(VISITOR_EMAIL));
    assert.equal(mail.headers.subject, "Cumbre: a reply to your question");
    assert.match(mail.body, /a new parcel leaves today/);
    const link = /http:\/\/127\.0\.0\.1:\d+\/\?sv_resume=[\w.-]+/.exec(mail.body)?.[0];
    assert.ok(link, mail.body);

    // The link on another device (a fresh context, nothing stored): the conversation reopens
    // with the visitor's words and the agent's reply, and the parameter leaves the address bar.
    const phone = await browser.newContext({ locale: "en-US" });
    const { p: elsewhere, watch: watch2 } = await page(phone);
    await elsewhere.goto(link);
    await elsewhere.getByRole("dialog").waitFor({ timeout: 30_000 });
    await elsewhere.locator('[data-from="agent"]').filter({ hasText: "a new parcel leaves today" }).waitFor({ timeout: 15_000 });
    await elsewhere.locator('[data-from="visitor"]').filter({ hasText: "my parcel never arrived" }).waitFor();
    assert.ok(!elsewhere.url().includes("sv_resume"), elsewhere.url());
    assert.match(await shadow(elsewhere, ".sv-esc-status"), /Sent to our team/);
    // Live from there on: the next agent message arrives without a reload, and the visitor's
    // reply on this device reaches the agent.
    await agentReply(conversation.id, "The tracking number is CU123456.");
    await elsewhere.locator('[data-from="agent"]').filter({ hasText: "CU123456" }).waitFor({ timeout: 10_000 });
    await elsewhere.getByRole("textbox", { name: "Message" }).fill("thanks, I will watch for it");
    await elsewhere.getByRole("textbox", { name: "Message" }).press("Enter");
    const readAgent = async () => (await (await fetch(`${server.url}api/agent/conversations/${conversation.id}`, { headers: { cookie } })).json()).messages.map((m) => m.text);
    for (let i = 0; i < 100 && !(await readAgent()).includes("thanks, I will watch for it"); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok((await readAgent()).includes("thanks, I will watch for it"));

    // The visitor answers the email instead: it comes back into the same conversation.
    const inbound = await fetch(`${server.url}api/mail/inbound`, {
      method: "POST",
      headers: { "content-type": "message/rfc822", "x-sottovoce-mail-secret": INBOUND_SECRET },
      body: `From: Marta <${VISITOR_EMAIL}>\r\nTo: support@cumbre.example\r\nSubject: Re: ${mail.headers.subject}\r\n` +
        `Message-ID: <answer-1@visitor.example>\r\nIn-Reply-To: ${mail.headers["message-id"]}\r\nReferences: ${mail.headers["message-id"]}\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\n\r\nPerfect, see you soon.\r\n\r\nOn Sat, Cumbre wrote:\r\n> Good morning Marta\r\n`,
    });
    assert.equal(inbound.status, 201, await inbound.text());
    const texts = await readAgent();
    assert.equal(texts.at(-1), "Perfect, see you soon.", "the quoted part is stripped");

    // A transcript by email on request (from the first device, which gave the address).
    await visitor.getByRole("button", { name: "Email me this conversation" }).click();
    await visitor.getByText(`Sent to ${VISITOR_EMAIL}.`).waitFor({ timeout: 10_000 });
    await until(() => smtp.mails.length >= 3, "the transcript email", 15_000);
    const transcript = parseMail(smtp.mails.at(-1)).body;
    assert.match(transcript, /my parcel never arrived/);
    assert.match(transcript, /Perfect, see you soon\./);

    // A tampered link reopens nothing and says so.
    const { p: third } = await page(await browser.newContext({ locale: "en-US" }));
    await third.goto(link.slice(0, -2) + (link.endsWith("00") ? "11" : "00"));
    await third.waitForFunction(() =>
      /link has expired or is wrong/.test(document.querySelector("#sottovoce-widget")?.shadowRoot.querySelector(".sv-esc-status").textContent ?? ""),
    null, { timeout: 30_000 });

    problems.push(...await watch.all(), ...await watch2.all());
  });

  test("the app example: native Help button, full-screen panel, offline answers, the customer's escalation on a second phone", async () => {
    const customer = "cust-4242";
    const hash = createHmac("sha256", IDENTITY_SECRET).update(customer).digest("hex");
    const phoneA = await browser.newContext({ ...devices["Pixel 7"], locale: "en-US" });
    const { p: app, watch } = await page(phoneA);
    await app.addInitScript(() => {
      window.__native = [];
      window.addEventListener("sottovoce-native", (e) => window.__native.push(e.detail.type));
    });
    await app.goto(`${server.url}app.html#customer=${customer}&name=Lena&user_hash=${hash}`);
    await app.getByText("Lena").waitFor();
    // The launcher bubble is off; the app's Help button opens the chat through the bridge.
    assert.equal(await app.evaluate(() => getComputedStyle(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-launcher")).display), "none");
    await app.getByRole("button", { name: "Help" }).tap();
    const panel = app.getByRole("dialog");
    await panel.waitFor();
    await app.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    const box = await panel.boundingBox();
    const viewport = app.viewportSize();
    assert.equal(Math.round(box.width), viewport.width, "the panel fills the phone's width");
    assert.ok(box.height >= viewport.height - 1, `the panel fills the phone's height (${box.height} of ${viewport.height})`);
    assert.ok((await app.evaluate(() => window.__native)).includes("open"), "native code heard that the chat opened");

    // Offline: the banner says what happens, and the assistant still answers on the phone.
    await phoneA.setOffline(true);
    await app.getByText("You are offline. The assistant still answers on this phone").waitFor();
    await ask(app, "how long does shipping take");
    const reply = await app.evaluate(() => window.__sv.messages.at(-1));
    assert.equal(reply.from, "bot");
    await phoneA.setOffline(false);
    await app.getByText("You are offline.").waitFor({ state: "hidden" });

    // Lena asks for a person; the escalation carries her vouched customer id.
    await ask(app, "I want to talk to a human");
    await app.getByRole("button", { name: "Connect me" }).tap();
    await app.waitForFunction(() =>
      /Sent to our team/.test(document.querySelector("#sottovoce-widget").shadowRoot.querySelector(".sv-esc-status").textContent),
    null, { timeout: 15_000 });
    const mine = (await conversations()).find((c) => c.customer_id === customer);
    assert.ok(mine, "the escalation carries the customer id");
    await agentReply(mine.id, "Hi Lena, this is Sam from Cumbre.");
    await app.locator('[data-from="agent"]').filter({ hasText: "this is Sam" }).waitFor({ timeout: 10_000 });

    // Her second phone: signed in as the same customer, the open escalation and the reply show.
    const phoneB = await browser.newContext({ ...devices["Pixel 7"], locale: "en-US" });
    const { p: other, watch: watch2 } = await page(phoneB);
    await other.goto(`${server.url}app.html#customer=${customer}&name=Lena&user_hash=${hash}`);
    await other.getByRole("button", { name: "Help" }).tap();
    await other.locator('[data-from="agent"]').filter({ hasText: "this is Sam" }).waitFor({ timeout: 30_000 });
    await other.locator('[data-from="visitor"]').filter({ hasText: "I want to talk to a human" }).waitFor();
    await agentReply(mine.id, "Both of your phones see this.");
    await other.locator('[data-from="agent"]').filter({ hasText: "Both of your phones" }).waitFor({ timeout: 10_000 });
    await app.locator('[data-from="agent"]').filter({ hasText: "Both of your phones" }).waitFor({ timeout: 10_000 });

    // A wrong hash finds nothing: a third phone claiming her id sees no conversation.
    const { p: impostor } = await page(await browser.newContext({ ...devices["Pixel 7"], locale: "en-US" }));
    const lookups = [];
    impostor.on("response", (r) => { if (r.url().endsWith("/by-customer")) lookups.push(r.status()); });
    await impostor.goto(`${server.url}app.html#customer=${customer}&name=Lena&user_hash=${"0".repeat(64)}`);
    await impostor.getByRole("button", { name: "Help" }).tap();
    await impostor.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    await until(() => lookups.length > 0, "the by-customer lookup", 10_000);
    assert.deepEqual(lookups, [401]);
    assert.equal(await impostor.locator('[data-from="agent"]').count(), 0);

    problems.push(...await watch.all(), ...await watch2.all());
  });
});
