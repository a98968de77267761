// End to end, issue 14 item 3 (a): the bot learns from one visitor, on their device. A "did you
// mean" suggestion they pick teaches what their message meant, so a similar message is answered
// next time; a thumbs up under an answer is a lesson too; both show under "What I remember" and
// can be forgotten; and no lesson leaves the browser (only counts-only KPI reports do).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isKpiReport, useServerAndBrowser, watchPage } from "./support.mjs";

describe("learning from the visitor", () => {
  const env = useServerAndBrowser();

  test("a picked suggestion and a thumbs up teach the bot, are shown, forgotten, and never sent", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    const sent = [];
    page.on("request", (r) => {
      if (r.method() !== "GET" && !isKpiReport(r.method(), r.url(), r.postData())) sent.push(`${r.method()} ${r.url()}`);
    });
    await page.goto(env.server.url);
    await page.getByRole("button", { name: "Open chat" }).click();
    const box = page.getByRole("textbox", { name: "Message" });
    const visitor = page.locator('[data-from="visitor"]');
    const say = async (text) => {
      const before = await page.locator('[data-from="bot"]').count();
      await box.fill(text);
      await box.press("Enter");
      await page.locator('[data-from="bot"]').nth(before).waitFor();
    };

    await say("can my package be left with a neighbour");
    assert.equal(await visitor.last().getAttribute("data-intent"), null, "a fallback at first");
    assert.equal(await page.getByRole("group", { name: "Was this helpful?" }).count(), 0, "a fallback is not rated");
    await page.getByRole("button", { name: "Problem with a delivery" }).click();
    await page.getByRole("group", { name: "Was this helpful?" }).waitFor();

    await say("can my package be left with my neighbour");
    assert.equal(await visitor.last().getAttribute("data-intent"), "delivery_problem", "the lesson answers the variant");

    await page.getByRole("button", { name: "Yes, helpful" }).click();
    await page.getByText("Thanks. I'll remember that on this device.").waitFor();

    await page.getByRole("button", { name: "What I remember" }).click();
    const lessons = page.locator(".sv-fact").filter({ hasText: "delivery_problem" });
    assert.deepEqual(
      (await lessons.allTextContents()).map((t) => t.replace(/ \(.*$/, "")),
      [
        "You taught me: \u201ccan my package be left with a neighbour\u201d meant delivery_problem",
        "You taught me: \u201ccan my package be left with my neighbour\u201d meant delivery_problem",
      ],
    );
    await lessons.first().getByRole("button", { name: /^Forget/ }).click();
    await page.locator(".sv-fact").filter({ hasText: "with a neighbour" }).waitFor({ state: "detached" });
    const kept = await page.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => /^sottovoce:v1:[^:]+$/.test(k) && !k.includes(":ui:"));
      return JSON.parse(localStorage.getItem(key)).profile.taught.map((l) => [l.text, l.intent, l.up, l.source]);
    });
    assert.deepEqual(kept, [["can my package be left with my neighbour", "delivery_problem", true, "thumbs"]]);

    assert.deepEqual(sent, [], "no lesson left the browser");
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});
