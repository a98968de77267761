// End to end: static word vectors are an owner opt-in (`"word_vectors": "minilm-l6-d64"` in the
// definition). Such a bot makes the widget fetch pkg/vectors-minilm-l6-d64.svvec once, as definition
// JSON trained in the page and as a compiled model on the runtime build; the demo bot never fetches
// it; a table that cannot be fetched leaves the widget in its load-error state.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, demoPageWithBot, recordWidgetEvents, unsentMessage, useServerAndBrowser, watchPage } from "./support.mjs";

const TABLE = "/pkg/vectors-minilm-l6-d64.svvec";
const store = JSON.parse(readFileSync(join(ROOT, "www/bots/store.json"), "utf8"));
// The demo store bot with the opt-in: the same intents, trained with the table.
const optedIn = JSON.stringify({ ...store, word_vectors: "minilm-l6-d64" });

describe("word vectors in the widget", () => {
  const env = useServerAndBrowser();
  let scratch;
  let model;

  before(() => {
    // The compiled model of the opted-in bot, from the real CLI (it carries the same table).
    scratch = mkdtempSync(join(tmpdir(), "sottovoce-vectors-"));
    writeFileSync(join(scratch, "store-vectors.json"), optedIn);
    execFileSync(join(ROOT, "target", "release", "sottovoce"), ["build", join(scratch, "store-vectors.json"), "-o", join(scratch, "store-vectors.svm")]);
    model = readFileSync(join(scratch, "store-vectors.svm"));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /// The demo page with data-bot pointing at `botPath` (served by `serveBot` when given), every
  /// request path recorded.
  async function page(botPath, serveBot, routeTable) {
    const context = await env.browser.newContext({ locale: "en-US" });
    const p = await context.newPage();
    const watch = await watchPage(p);
    await recordWidgetEvents(p);
    const requests = [];
    p.on("request", (r) => requests.push(new URL(r.url()).pathname));
    await demoPageWithBot(p, env.server.url, botPath);
    if (serveBot) await p.route(new URL(botPath, env.server.url).href, (route) => route.fulfill(serveBot));
    if (routeTable) await p.route(new URL(TABLE, env.server.url).href, routeTable);
    await p.goto(env.server.url, { waitUntil: "load" });
    await p.waitForFunction(() => window.__sv.ready !== null || window.__sv.error !== null, null, { timeout: 120_000 });
    return { page: p, watch, requests };
  }

  const cases = [
    { name: "definition JSON trained in the page", path: "/bots/store-vectors.json", source: "definition",
      serve: () => ({ status: 200, contentType: "application/json", body: optedIn }) },
    { name: "a compiled model on the runtime build", path: "/bots/store-vectors.svm", source: "model",
      serve: () => ({ status: 200, contentType: "application/octet-stream", body: model }) },
  ];
  for (const c of cases) {
    test(`a bot that opts in loads with the table fetched once: ${c.name}`, async () => {
      const { page: p, watch, requests } = await page(c.path, c.serve());
      assert.equal(await p.evaluate(() => window.__sv.error), null);
      assert.equal(await p.evaluate(() => window.__sv.ready.source), c.source);
      const turn = await p.evaluate(() => window.sottovoce.send("where is my order"));
      assert.equal(turn.intent, "order_status");
      const again = await p.evaluate(() => window.sottovoce.send("how do refunds work"));
      assert.equal(again.intent, "refunds");
      assert.equal(requests.filter((r) => r === TABLE).length, 1, `the table was fetched once: ${requests.join(", ")}`);
      assert.deepEqual(await watch.all(), []);
      await p.context().close();
    });
  }

  test("bots without word_vectors never download the table", async () => {
    for (const path of ["/bots/store.svm", "/bots/store.json"]) {
      const { page: p, watch, requests } = await page(path);
      assert.equal(await p.evaluate(() => window.__sv.error), null, path);
      const turn = await p.evaluate(() => window.sottovoce.send("where is my order"));
      assert.equal(turn.intent, "order_status", path);
      assert.deepEqual(requests.filter((r) => r.includes("vectors")), [], path);
      assert.deepEqual(await watch.all(), [], path);
      await p.context().close();
    }
  });

  test("a table that cannot be fetched shows the load-error state and keeps the visitor's text", async () => {
    const { page: p } = await page("/bots/store-vectors.json", cases[0].serve(), (route) => route.fulfill({ status: 404, body: "" }));
    const error = await p.evaluate(() => window.__sv.error);
    assert.ok(error && /vectors-minilm-l6-d64\.svvec.*404/.test(error.message), JSON.stringify(error));
    assert.equal(await p.evaluate(() => window.__sv.ready), null);
    assert.equal(await unsentMessage(p, "where is my order"), "where is my order");
    await p.context().close();
  });
});
