// End to end: product recommendations in the widget (issue 11, items 3-4), in headless Chromium
// on the demo page. The demo bot's product_availability intent has the `recommend` action, so
// "do you have ...?" answers, then the widget fetches the shop's catalog (data-catalog, once)
// and shows the best products ranked in the page by the core's recommender.
//
// Run: make pkg cli && node --test tests/e2e/
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, recordWidgetEvents, useServerAndBrowser, watchPage } from "./support.mjs";

const catalog = readFileSync(join(ROOT, "www/catalog/cumbre.jsonl"), "utf8");

describe("product recommendations", () => {
  const env = useServerAndBrowser();

  // The widget's own words follow the visitor (issue 19): `words` are the labels it uses.
  const WORDS = {
    "en-US": { open: "Open chat", message: "Message", products: "Products", outOfStock: "Out of stock", comparison: "Comparison" },
    "es-ES": { open: "Abrir chat", message: "Mensaje", products: "Productos", outOfStock: "Agotado", comparison: "Comparación" },
    "de-DE": { open: "Chat öffnen", message: "Nachricht", products: "Produkte", outOfStock: "Nicht vorrätig", comparison: "Vergleich" },
  };

  async function openChat(locale, routeCatalog) {
    const words = WORDS[locale];
    const context = await env.browser.newContext({ locale });
    const page = await context.newPage();
    const watch = await watchPage(page);
    await recordWidgetEvents(page);
    let fetches = 0;
    let compiled = null;
    // The demo serves the compiled catalog (sottovoce build --catalog); a test may answer with
    // JSONL instead, which the recommender also reads.
    await page.route("**/catalog/cumbre.svc", async (route) => {
      fetches += 1;
      if (routeCatalog) return route.fulfill({ status: 200, contentType: "application/x-ndjson", body: routeCatalog });
      const response = await route.fetch();
      compiled = (await response.body()).subarray(0, 4).toString("latin1") === "SVC\0";
      return route.fulfill({ response });
    });
    await page.goto(env.server.url);
    await page.getByRole("button", { name: words.open }).click();
    await page.waitForFunction(() => window.__sv.ready !== null, null, { timeout: 30_000 });
    const textbox = page.getByRole("textbox", { name: words.message });
    async function ask(text) {
      await textbox.fill(text);
      await textbox.press("Enter");
    }
    return { context, page, watch, ask, words, fetches: () => fetches, compiled: () => compiled };
  }

  test("an availability question is answered with cards: name, price in the visitor's format, link", async () => {
    const { context, page, watch, ask, fetches, compiled } = await openChat("en-US");
    assert.equal(fetches(), 0, "the catalog waits until a recommendation is needed");
    await ask("do you have waterproof hiking boots for women?");
    const products = page.getByRole("list", { name: "Products" });
    await products.waitFor({ timeout: 10_000 });
    const cards = products.getByRole("listitem");
    assert.equal(await cards.count(), 3);
    const first = await cards.first().textContent();
    assert.match(first, /boots/i);
    assert.match(first, /€\d+\.\d\d/, "EUR in en-US: €189.00");
    const href = await cards.first().getByRole("link", { name: "View product" }).getAttribute("href");
    assert.match(href, /^https:\/\/cumbre\.example\/p\//);
    const ids = await page.evaluate(() => [...document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll(".sv-product")].map((li) => li.dataset.product));
    assert.ok(ids.every((id) => !id.endsWith("-m")), `no men's product first for a women's request: ${ids}`);
    await ask("do you sell tents?");
    await products.nth(0).waitFor();
    await page.waitForFunction(() => document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll(".sv-products").length === 2);
    assert.equal(fetches(), 1, "fetched once");
    assert.equal(compiled(), true, "the demo serves the compiled catalog");
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("the cards come with the reply's with_products message instead of the stock policy, on screen and in the stored transcript", async () => {
    const { context, page, watch, ask } = await openChat("es-ES");
    await ask("hola, busco una chaqueta impermeable para mujer");
    await page.getByRole("list", { name: "Productos" }).waitFor({ timeout: 10_000 });
    const bot = page.locator('[data-from="bot"]');
    assert.match(await bot.last().textContent(), /Aquí tienes algunos que encajan con lo que buscas/);
    assert.equal(await bot.filter({ hasText: "Cada página de producto muestra el stock" }).count(), 0, "the stock policy is not said");
    const stored = await page.evaluate(() =>
      Object.keys(localStorage).filter((k) => k.startsWith("sottovoce:") && !k.includes(":ui:")).map((k) => localStorage.getItem(k)).join("\n"));
    assert.match(stored, /Aquí tienes algunos que encajan/, "the transcript an agent would read says what the visitor saw");
    assert.doesNotMatch(stored, /Cada página de producto muestra el stock/);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("the visitor's size, said once, orders the cards of a later request (issue 11 item 4)", async () => {
    const { context, page, watch, ask } = await openChat("en-US");
    const sizes = new Map(catalog.split("\n").filter(Boolean).map((l) => JSON.parse(l)).map((p) => [p.id, p.attributes.sizes || []]));
    await ask("my shoe size is 37");
    await page.waitForFunction(() => window.__sv.intents.length >= 1);
    await ask("do you have hiking boots?");
    const products = page.getByRole("list", { name: "Products" });
    await products.waitFor({ timeout: 10_000 });
    const ids = await page.evaluate(() => [...document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll(".sv-product")].map((li) => li.dataset.product));
    assert.equal(ids.length, 3);
    // Without the size, the first three include men's boots from 40 up (src/catalog/rank.rs tests).
    assert.ok(ids.every((id) => sizes.get(id).includes("37")), `every card comes in 37: ${ids}`);
    await page.getByRole("button", { name: "What I remember" }).click();
    await page.getByRole("region", { name: "What I remember" }).getByText(/^Your size: 37/).waitFor();
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("follow-ups: cheaper, compare them, what goes with it (issue 11 item 4)", async () => {
    const { context, page, watch, ask } = await openChat("en-US");
    const lists = () => page.evaluate(() => [...document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll(".sv-products")]
      .map((ul) => ({ label: ul.getAttribute("aria-label"), ids: [...ul.querySelectorAll(".sv-product")].map((li) => li.dataset.product),
        prices: [...ul.querySelectorAll(".sv-product-price")].map((p) => Number(p.textContent.replace(/[^\d.]/g, ""))) })));
    const waitLists = (n) => page.waitForFunction((n) => document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll(".sv-products").length === n, n, { timeout: 10_000 });
    await ask("do you have waterproof hiking boots for women?");
    await waitLists(1);
    const [first] = await lists();
    // The "Something cheaper?" button under the cards (issue 20 item 3: one tap after a product
    // answer) refines the request: women's waterproof boots again, each below the first shown
    const buttons = page.getByRole("group", { name: "Suggestions" }).last();
    assert.deepEqual(await buttons.getByRole("button").allTextContents(), ["What goes with it?", "Something cheaper?"]);
    await buttons.getByRole("button", { name: "Something cheaper?" }).click();
    await waitLists(2);
    const cheaper = (await lists())[1];
    // (boots first; with fewer boots below that price, other waterproof things for women follow.)
    assert.ok(cheaper.ids[0].startsWith("cu-boot") && cheaper.ids.every((id) => !id.endsWith("-m")), `${cheaper.ids}`);
    assert.ok(cheaper.prices.every((p) => p < first.prices[0]), `${cheaper.prices} after ${first.prices}`);
    // "compare them": the first two of the cards just shown, side by side, with their prices.
    await ask("compare them");
    const table = page.getByRole("table", { name: "Comparison" });
    await table.waitFor({ timeout: 10_000 });
    const columns = await table.locator("thead th").evaluateAll((ths) => ths.map((th) => th.dataset.product));
    assert.deepEqual(columns, cheaper.ids.slice(0, 2));
    assert.ok(await table.getByRole("rowheader", { name: "Price" }).count() === 1);
    // Well-known attribute keys are named in the conversation's language (see the Spanish case).
    for (const name of ["Sizes", "Season", "For"]) {
      assert.equal(await table.getByRole("rowheader", { name, exact: true }).count(), 1, `a row named ${name}`);
    }
    // "what goes with it?": other kinds of thing for the first card shown.
    await ask("what goes with it?");
    await waitLists(3);
    const goesWith = (await lists())[2];
    assert.equal(goesWith.label, "Goes well with it");
    assert.ok(goesWith.ids.length > 0 && goesWith.ids.every((id) => !id.startsWith("cu-boot")), `${goesWith.ids}`);
    // The demo catalog's owner relations come first, in their order (boots: socks, poles, trousers).
    const row = catalog.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((p) => p.id === cheaper.ids[0]);
    assert.deepEqual(goesWith.ids, row.related.slice(0, 3));
    // "how much are they?": every card of the request shown last, side by side, price first
    // (a price question about them once got the shipping costs).
    await ask("how much are they?");
    const priced = page.getByRole("table", { name: "Comparison" }).nth(1);
    await priced.waitFor({ timeout: 10_000 });
    assert.deepEqual(await priced.locator("thead th").evaluateAll((ths) => ths.map((th) => th.dataset.product)), cheaper.ids);
    assert.equal(await priced.locator("tbody tr").first().getByRole("rowheader").textContent(), "Price");
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("a German shopper gets what the bot read, though the catalog has no German (2026-12-07: jackets for a sleeping bag)", async () => {
    const { context, page, watch, ask, words } = await openChat("de-DE");
    const categories = new Map(catalog.split("\n").filter(Boolean).map((l) => JSON.parse(l)).map((p) => [p.id, p.category]));
    // The ids of the cards of the `n`th product list.
    const shown = (n) => page.evaluate((i) => [...document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll(".sv-products")[i]
      .querySelectorAll(".sv-product")].map((li) => li.dataset.product), n);
    await ask("ich suche einen schlafsack für den winter");
    await page.getByRole("list", { name: words.products }).first().waitFor({ timeout: 10_000 });
    const first = await shown(0);
    assert.deepEqual(first.map((id) => categories.get(id)), ["sleeping-bags", "sleeping-bags", "sleeping-bags"], first.join(", "));
    await ask("billiger?");
    await page.waitForFunction(() => document.querySelector("#sottovoce-widget").shadowRoot.querySelectorAll(".sv-products").length === 2, null, { timeout: 10_000 });
    const cheaper = await shown(1);
    assert.deepEqual(cheaper.map((id) => categories.get(id)), ["sleeping-bags", "sleeping-bags", "sleeping-bags"], cheaper.join(", "));
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("a comparison reads in the visitor's language: attribute names and well-known values", async () => {
    const { context, page, watch, ask, words } = await openChat("es-ES");
    await ask("¿tienen botas de montaña para mujer?");
    await page.getByRole("list", { name: words.products }).waitFor({ timeout: 10_000 });
    await ask("compáralos");
    const table = page.getByRole("table", { name: words.comparison });
    await table.waitFor({ timeout: 10_000 });
    for (const name of ["Precio", "Tallas", "Temporada", "Para"]) {
      assert.equal(await table.getByRole("rowheader", { name, exact: true }).count(), 1, `a row named ${name}`);
    }
    const text = await table.textContent();
    assert.match(text, /mujer/, "gender: women → mujer");
    assert.match(text, /invierno|otoño|primavera|verano/, "seasons in Spanish");
    assert.doesNotMatch(text, /\b(women|winter|autumn|spring|summer)\b/, "no English values left");
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("the gear quiz: three buttons, then products that fit the answers (issue 20 item 4)", async () => {
    const { context, page, watch, ask, words } = await openChat("en-US");
    await ask("help me choose gear");
    for (const label of ["Hiking", "Women", "Winter"]) {
      const button = page.getByRole("group", { name: "Suggestions" }).getByRole("button", { name: label, exact: true });
      await button.waitFor({ timeout: 10_000 });
      await button.click();
    }
    const products = page.getByRole("list", { name: words.products });
    await products.waitFor({ timeout: 10_000 });
    const ids = await products.locator(".sv-product").evaluateAll((lis) => lis.map((li) => li.dataset.product));
    assert.ok(ids.length > 0 && ids.every((id) => !/-(m|k)$/.test(id)), `women's or unisex products only: ${ids}`);
    // The quiz's answers are remembered facts the visitor can see (and forget).
    await page.getByRole("button", { name: "What I remember" }).click();
    const remembered = await page.locator("#sottovoce-widget").evaluate((w) => w.shadowRoot.querySelector("#sv-remembered").textContent);
    assert.match(remembered, /Your activity: hiking/);
    assert.match(remembered, /Your season: winter/);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });

  test("catalog text with markup is shown as text, and a bad URL gets no link", async () => {
    const hostile = JSON.stringify({
      id: "x-1", name: { en: "<img src=x onerror=\"window.__pwned=1\">Storm boots" }, description: { en: "<b>bold</b>" },
      category: "hiking-boots", price: { amount: 99, currency: "EUR" }, url: "http://cumbre.example/p/x-1",
      image: "javascript:alert(1)", in_stock: false, attributes: {},
    });
    // Tents beside it, so the out-of-stock boots are the only match (in-stock ones would rank first).
    const tents = catalog.split("\n").filter((l) => l.includes('"category": "tents"')).join("\n");
    const { context, page, watch, ask, words } = await openChat("es-ES", tents + "\n" + hostile + "\n");
    await ask("¿tienen las botas storm en stock?");
    // The widget's own words and the prices follow the conversation's locale (Spanish), not the
    // page's <html lang="en">.
    const products = page.getByRole("list", { name: words.products });
    await products.waitFor({ timeout: 10_000 });
    const card = products.locator('[data-product="x-1"]');
    assert.equal(await card.locator(".sv-product-name").textContent(), "<img src=x onerror=\"window.__pwned=1\">Storm boots");
    assert.equal(await card.locator("img").count(), 0, "a javascript: image is not loaded");
    assert.match(await card.textContent(), new RegExp(words.outOfStock));
    assert.match(await card.textContent(), /99,00\s€/, "EUR in es-ES: 99,00 €");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(await watch.all(), []);
    await context.close();
  });
});
