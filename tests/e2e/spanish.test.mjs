// End to end: a Spanish-speaking visitor on a Spanish page gets the widget's Spanish labels and
// the bot's Spanish replies (the demo page, served with lang="es" through a route). The labels
// follow the visitor, not the page: tests/e2e/locale.test.mjs has the English page.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

const bot = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));

describe("the widget in Spanish", () => {
  const env = useServerAndBrowser();

  test("Spanish labels on a Spanish page, Spanish replies for a Spanish visitor", async () => {
    const context = await env.browser.newContext({ locale: "es-MX" });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    await page.route(env.server.url, async (route) => {
      const response = await route.fetch();
      const html = (await response.text()).replace('<html lang="en">', '<html lang="es">');
      assert.ok(html.includes('<html lang="es">'), "the demo page declares its language");
      await route.fulfill({ response, body: html });
    });
    await page.goto(env.server.url);
    await page.getByRole("button", { name: "Abrir chat" }).click();
    await page.getByRole("dialog", { name: bot.name }).waitFor();
    await page.waitForFunction(() => window.__sv.ready !== null);
    const greeting = await page.locator('[data-from="bot"] p').first().textContent();
    assert.equal(greeting, bot.messages.es[bot.greeting.message]);
    await page.getByRole("textbox", { name: "Mensaje" }).fill("¿cuánto tarda en llegar un paquete a Monterrey?");
    await page.getByRole("button", { name: "Enviar" }).click();
    await page.waitForFunction(() => window.__sv.intents.length === 1);
    const turn = await page.evaluate(() => window.__sv.intents[0]);
    assert.equal(turn.locale, "es");
    assert.ok(["shipping_times", "international_shipping"].includes(turn.intent), turn.intent);
    assert.equal(await page.getByRole("button", { name: "Empezar de nuevo" }).count(), 1);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});
