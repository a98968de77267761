// End to end: what the bot remembers about a visitor (issue 11, item 1), in headless Chromium on
// the demo page. The demo bot keeps the products and order numbers a visitor mentions (its
// definition's `profile`); "What I remember" lists them with the name, each can be forgotten,
// and "Forget me" deletes everything the chat stored on the device.
//
// Run: make pkg cli && node --test tests/e2e/
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

describe("what the bot remembers", () => {
  const env = useServerAndBrowser();

  // A new English visitor with the chat open; `ask` sends a message and waits for its turn.
  async function openChat() {
    const context = await env.browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.goto(env.server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    const textbox = page.getByRole("textbox", { name: "Message" });
    async function ask(text) {
      const before = await page.evaluate(() => window.__sv.intents.length);
      await textbox.fill(text);
      await textbox.press("Enter");
      await page.waitForFunction((n) => window.__sv.intents.length > n, before, { timeout: 10_000 });
    }
    return { context, page, watch, ask };
  }

  test("lists the name and the facts the definition allows, forgets one, then forgets everything", async () => {
    const { context, page, watch, ask } = await openChat();
    await ask("I'm Nico");
    await ask("are your boots waterproof?");
    await ask("my order CU-482913 hasn't arrived");

    const button = page.getByRole("button", { name: "What I remember" });
    await button.click();
    assert.equal(await button.getAttribute("aria-expanded"), "true");
    const panel = page.getByRole("region", { name: "What I remember" });
    const facts = () => panel.locator("li").allTextContents();
    await panel.locator("li").first().waitFor();
    const listed = await facts();
    assert.ok(listed.some((f) => f.startsWith("Your name: Nico")), listed.join(" | "));
    assert.ok(listed.some((f) => f.startsWith("You asked about: boots (said in chat")), listed.join(" | "));
    assert.ok(listed.some((f) => f.startsWith("Your order: CU-482913")), listed.join(" | "));

    // One fact forgotten: gone from the list and from the stored state.
    await panel.getByRole("button", { name: "Forget: CU-482913" }).click();
    assert.ok(!(await facts()).some((f) => f.includes("CU-482913")));
    const stored = await page.evaluate(() =>
      Object.keys(localStorage).filter((k) => k.startsWith("sottovoce:") && !k.includes(":ui:")).map((k) => localStorage.getItem(k)));
    assert.equal(stored.length, 1);
    assert.ok(!stored[0].includes("\"order_number\",\"value\":\"CU-482913\""), "the forgotten fact is not stored");
    assert.ok(stored[0].includes("\"value\":\"boots\""), "the other facts are");

    // Forget me: nothing of sottovoce's is left in this origin's storage, and the visitor is told.
    await panel.getByRole("button", { name: "Forget me" }).click();
    await page.getByText("Everything this site's chat stored about you on this device was deleted.").waitFor();
    const left = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("sottovoce:")));
    assert.deepEqual(left, []);
    await button.click();
    await panel.getByText("Nothing yet.").waitFor();
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("asked in chat, shows what it remembers, and forgets only after the visitor presses Forget me", async () => {
    const { context, page, watch, ask } = await openChat();
    await ask("my order CU-482913 hasn't arrived");
    const panel = page.getByRole("region", { name: "What I remember" });
    assert.equal(await panel.isVisible(), false);
    await ask("what do you remember about me?");
    await panel.locator("li").first().waitFor();
    assert.ok((await panel.locator("li").allTextContents()).some((f) => f.startsWith("Your order: CU-482913")));

    await ask("please forget me");
    const forgetMe = panel.getByRole("button", { name: "Forget me" });
    await forgetMe.waitFor();
    const stored = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("sottovoce:") && !k.includes(":ui:")));
    assert.equal((await stored()).length, 1, "nothing is deleted before the visitor presses Forget me");
    await forgetMe.click();
    await page.getByText("Everything this site's chat stored about you on this device was deleted.").waitFor();
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("sottovoce:"))), []);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});

describe("a customer the site identified", () => {
  const env = useServerAndBrowser();

  test("is answered from their orders without being asked, and sees the account in What I remember", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.goto(env.server.url);
    await page.evaluate(() => window.sottovoce.identify({
      id: "c-42", name: "Lucía", email: "lucia@example.com",
      orders: [
        { id: "CU-111111", status: "delivered", placed_at: "2026-11-01", items: ["Ridgeline Rain Shell jacket"] },
        { id: "CU-222222", status: "shipped", placed_at: "2026-11-20", items: ["Cordillera Mid boots"] },
      ],
    }));
    assert.equal(await page.evaluate(() => window.sottovoce.track("product_view", { name: "Talus 30 Daypack" })), true);
    await page.getByRole("button", { name: "Open chat" }).click();
    const textbox = page.getByRole("textbox", { name: "Message" });
    await textbox.fill("where is my order?");
    await textbox.press("Enter");
    await page.getByText("Your order CU-222222 is shipped.", { exact: false }).waitFor({ timeout: 10_000 });
    await page.getByRole("button", { name: "What I remember" }).click();
    const panel = page.getByRole("region", { name: "What I remember" });
    await panel.getByText("Your account: lucia@example.com · CU-111111, CU-222222 (given by this site)").waitFor();
    await panel.getByText("Your name: Lucía", { exact: false }).waitFor();
    await panel.getByText("You looked at: Talus 30 Daypack (given by this site)").waitFor();
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});
