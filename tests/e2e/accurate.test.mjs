// End to end: the accuracy tier. A bot whose definition names the sentence encoder
// (`"word_vectors": "all-minilm-l6-v2"`), built by the real CLI with `sottovoce build --encoder`
// (the weights from `make encoder-weights`), loads in the widget with its `.sven` copy of the
// encoder beside the model: the encoder's own module (pkg/sottovoce_encoder.js) runs it, the file
// is downloaded once and then read from the Cache API, a rebuilt bot replaces its cached copy,
// and a copy that cannot be fetched leaves the widget in its load-error state.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, demoPageWithBot, recordWidgetEvents, unsentMessage, useServerAndBrowser, watchPage } from "./support.mjs";

const ENCODER_DIR = process.env.SOTTOVOCE_ENCODER_DIR ?? join(ROOT, "target/encoder/all-MiniLM-L6-v2");
const mini = JSON.parse(readFileSync(join(ROOT, "tests/fixtures/bots/mini.json"), "utf8"));
const MODEL = "/bots/mini-accurate.svm";
const COPY = "/bots/mini-accurate.sven";

/// The mini bot opted into the encoder, built by the CLI: { model, copy } bytes. `extra` adds
/// English examples to an intent (a rebuilt bot).
function build(scratch, name, extra = {}) {
  const definition = structuredClone(mini);
  definition.word_vectors = "all-minilm-l6-v2";
  for (const intent of definition.intents) intent.examples.en.push(...(extra[intent.name] ?? []));
  const path = join(scratch, `${name}.json`);
  writeFileSync(path, JSON.stringify(definition));
  execFileSync(join(ROOT, "target", "release", "sottovoce"), ["build", path, "--encoder", ENCODER_DIR], { stdio: "pipe" });
  return { model: readFileSync(join(scratch, `${name}.svm`)), copy: readFileSync(join(scratch, `${name}.sven`)) };
}

/// The hash (16 hex digits) of the encoder copy the model at MODEL needs, as the widget reads it.
async function neededHash(page) {
  return page.evaluate(async (model) => {
    const mod = await import("/pkg/sottovoce.js");
    await mod.default();
    return mod.Chat.vectorsHash(new Uint8Array(await (await fetch(model)).arrayBuffer()));
  }, MODEL);
}

/// The query strings of the URLs the widget's encoder cache holds, once it holds only the copy
/// whose hash is `hash` (the copy is stored, and an older one deleted, in the background):
/// polled for up to 10 s.
async function cachedCopies(page, hash) {
  return page.evaluate(async (hash) => {
    const cache = await caches.open("sottovoce-encoder");
    const now = async () => (await cache.keys()).map((k) => new URL(k.url).search);
    for (let i = 0; i < 100; i++) {
      const keys = await now();
      if (keys.length === 1 && keys[0] === `?sv-hash=${hash}`) return keys;
      await new Promise((r) => setTimeout(r, 100));
    }
    return now();
  }, hash);
}

describe("the accuracy tier in the widget", () => {
  const env = useServerAndBrowser();
  let scratch, bot, rebuilt;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "sottovoce-accurate-"));
    bot = build(scratch, "first");
    rebuilt = build(scratch, "second", { thanks: ["much obliged"] });
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /// The demo page in `context` with data-bot at MODEL, serving `files` (or a 404 for the copy),
  /// every request path recorded.
  async function open(context, files) {
    const p = await context.newPage();
    const watch = await watchPage(p);
    await recordWidgetEvents(p);
    const requests = [];
    p.on("request", (r) => requests.push(new URL(r.url()).pathname));
    await demoPageWithBot(p, env.server.url, MODEL);
    await p.route(new URL(MODEL, env.server.url).href, (route) => route.fulfill({ status: 200, contentType: "application/octet-stream", body: files.model }));
    await p.route(new URL(COPY, env.server.url).href, (route) => route.fulfill(files.copy
      ? { status: 200, contentType: "application/octet-stream", body: files.copy }
      : { status: 404, body: "not found" }));
    await p.goto(env.server.url, { waitUntil: "load" });
    await p.waitForFunction(() => window.__sv.ready !== null || window.__sv.error !== null, null, { timeout: 120_000 });
    return { page: p, watch, requests };
  }

  test("loads with the encoder's module and copy, answers paraphrases, and keeps the copy in the Cache API", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    const first = await open(context, bot);
    assert.equal(await first.page.evaluate(() => window.__sv.error), null);
    assert.equal(await first.page.evaluate(() => window.__sv.ready.source), "model");
    // Phrasings the examples do not have (the widget classifies them with the encoder).
    for (const [text, intent] of [["where's my parcel", "track_order"], ["i need a real person", "human"], ["what time do you shut", "store_hours"]]) {
      const turn = await first.page.evaluate((t) => window.sottovoce.send(t), text);
      assert.equal(turn.intent, intent, `${text}: ${JSON.stringify(turn.ranking)}`);
    }
    assert.equal(first.requests.filter((r) => r === COPY).length, 1, first.requests.join(", "));
    assert.equal(first.requests.filter((r) => r.endsWith("/sottovoce_encoder_bg.wasm")).length, 1, first.requests.join(", "));
    assert.deepEqual(await first.watch.all(), []);
    // The copy is stored in the background (a visitor who leaves first downloads it again).
    const firstHash = await neededHash(first.page);
    assert.deepEqual(await cachedCopies(first.page, firstHash), [`?sv-hash=${firstHash}`]);
    await first.page.close();

    // The next visit reads the copy from the Cache API: no download.
    const second = await open(context, bot);
    assert.equal(await second.page.evaluate(() => window.__sv.error), null);
    const turn = await second.page.evaluate(() => window.sottovoce.send("where's my parcel"));
    assert.equal(turn.intent, "track_order");
    assert.deepEqual(second.requests.filter((r) => r === COPY), [], "the copy came from the cache");
    await second.page.close();

    // A rebuilt bot needs its own copy: downloaded, and the old one dropped from the cache.
    const third = await open(context, rebuilt);
    assert.equal(await third.page.evaluate(() => window.__sv.error), null);
    assert.equal((await third.page.evaluate(() => window.sottovoce.send("much obliged"))).intent, "thanks");
    assert.equal(third.requests.filter((r) => r === COPY).length, 1, third.requests.join(", "));
    const hash = await neededHash(third.page);
    assert.notEqual(hash, firstHash);
    assert.deepEqual(await cachedCopies(third.page, hash), [`?sv-hash=${hash}`]);
    await context.close();
  });

  test("a damaged copy in the cache is dropped and downloaded again; a copy of another build is refused", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    const first = await open(context, bot);
    const hash = await neededHash(first.page);
    await cachedCopies(first.page, hash);
    await first.page.evaluate(async (hash) => {
      const cache = await caches.open("sottovoce-encoder");
      const [key] = await cache.keys();
      await cache.put(key, new Response("SVEN damaged"));
    }, hash);
    await first.page.close();
    const second = await open(context, bot);
    assert.equal(await second.page.evaluate(() => window.__sv.error), null);
    assert.equal((await second.page.evaluate(() => window.sottovoce.send("where's my parcel"))).intent, "track_order");
    assert.equal(second.requests.filter((r) => r === COPY).length, 1, "downloaded again");
    const sizes = await second.page.evaluate(async () => {
      const cache = await caches.open("sottovoce-encoder");
      for (let i = 0; i < 100; i++) {
        const [key] = await cache.keys(); // none between the delete and the new copy's put
        const size = key ? (await (await cache.match(key)).arrayBuffer()).byteLength : 0;
        if (size > 1e6) return size;
        await new Promise((r) => setTimeout(r, 100));
      }
      return 0;
    });
    assert.equal(sizes, bot.copy.length, "the good copy replaced the damaged one");
    await second.page.close();
    // The model of one build with the copy of another: refused, nothing cached.
    await context.clearCookies();
    const mixed = await open(await env.browser.newContext({ locale: "en-US" }), { model: bot.model, copy: rebuilt.copy });
    const error = await mixed.page.evaluate(() => window.__sv.error);
    assert.ok(error && /is not the encoder copy .* was built with/.test(error.message), JSON.stringify(error));
    assert.deepEqual(await mixed.page.evaluate(async () => (await (await caches.open("sottovoce-encoder")).keys()).length), 0);
    await mixed.page.context().close();
    await context.close();
  });

  test("a copy that cannot be fetched leaves the widget in its load-error state, the visitor's message kept", async () => {
    const context = await env.browser.newContext({ locale: "en-US" });
    const { page: p } = await open(context, { model: bot.model });
    const error = await p.evaluate(() => window.__sv.error);
    assert.ok(error && /mini-accurate\.sven failed: HTTP 404/.test(error.message), JSON.stringify(error));
    assert.equal(await p.evaluate(() => window.__sv.ready), null);
    assert.equal(await unsentMessage(p, "where is my order"), "where is my order");
    await context.close();
  });
});
