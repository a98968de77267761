// Browser benchmark: the real pkg/ in headless Chromium, served by `sottovoce serve`.
//
// Measures, for the demo bot:
//   - bundle sizes (wasm, JS glue, widget; raw and gzip) and bot sizes (model, definition),
//   - WebAssembly module import + init time,
//   - time to load the bot from the compiled model vs. training from the definition in the page,
//   - classification latency (`Chat.understand`) and whole-turn latency (`Chat.send`), p50/p99,
//   - on the demo page: time from navigation to the greeting and to the first answer (a question
//     sent the moment window.sottovoce exists), for both load paths.
// Writes the "bench" section of bench-results/browser.json (the e2e test writes "e2e").
//
// Usage: node scripts/bench-browser.mjs [--runs N] [--texts file.jsonl] [--bot www/bots/store.json]
//   --texts: JSONL with a "text" field per line (default: tests/fixtures/nlu/store-heldout.jsonl).
//   Datasets with their own bot (e.g. CLINC150) plug in through --bot + --texts.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, bundleSizes, launchChromium, recordWidgetEvents, startServer, watchPage, writeBrowserResults } from "../tests/e2e/support.mjs";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    texts: { type: "string", default: join(ROOT, "tests/fixtures/nlu/store-heldout.jsonl") },
    bot: { type: "string", default: join(ROOT, "www/bots/store.json") },
    repeat: { type: "string", default: "20" },
  },
});
const runs = Number(opts.runs);
const botPath = resolve(opts.bot);
const stem = basename(botPath, ".json");

function readTexts(path) {
  if (!existsSync(path)) throw new Error(`--texts ${path}: no such file`);
  return readFileSync(path, "utf8").split("\n").filter((l) => l.trim()).map((line, i) => {
    try { return JSON.parse(line).text; } catch (e) { throw new Error(`${path}:${i + 1}: ${e.message}`); }
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
function roundAll(value) {
  if (typeof value === "number") return round(value, value < 10 ? 3 : 1);
  if (Array.isArray(value)) return value.map(roundAll);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundAll(v)]));
  return value;
}

const texts = readTexts(opts.texts);
const server = await startServer(["--bot", botPath]);
const browser = await launchChromium();
try {
  // 1. In-page measurements on bench.html.
  const page = await browser.newPage();
  const watch = await watchPage(page);
  await page.goto(new URL("bench.html", server.url).href);
  await page.waitForFunction(() => window.svBench !== undefined, null, { timeout: 60_000 });
  const inPage = await page.evaluate(async ({ stem, runs, texts, repeat }) => ({
    module: window.svBench.module,
    model: await window.svBench.load(`/bots/${stem}.svm`, runs),
    definition: await window.svBench.load(`/bots/${stem}.json`, Math.max(1, Math.min(runs, 3))),
    latency: await window.svBench.latency(`/bots/${stem}.svm`, texts, repeat),
  }), { stem, runs, texts, repeat: Number(opts.repeat) });
  const problems = await watch.all();
  if (problems.length) throw new Error(`bench.html: ${problems.join("\n")}`);
  await page.close();

  // 2. The demo page, cold, in a fresh context per run: navigation → greeting, and → the answer
  //    to a question sent as soon as the widget's API exists. The definition path is measured by
  //    answering the page's request for the model with the definition JSON (the widget sniffs).
  const firstReply = {};
  if (stem === "store") {
    const definition = readFileSync(botPath);
    for (const source of ["model", "definition"]) {
      const greeting = [], answer = [];
      for (let i = 0; i < runs; i++) {
        const context = await browser.newContext({ locale: "en-US" });
        const p = await context.newPage();
        const w = await watchPage(p);
        if (source === "definition") {
          await p.route("**/bots/store.svm", (route) => route.fulfill({ status: 200, contentType: "application/json", body: definition }));
        }
        await recordWidgetEvents(p);
        await p.addInitScript(() => {
          document.addEventListener("DOMContentLoaded", () => {
            window.sottovoce.send("hi, where is my order?").then(() => { window.__sv.answerMs = performance.now(); });
          });
        });
        await p.goto(server.url);
        await p.waitForFunction(() => window.__sv.answerMs, null, { timeout: 120_000 });
        const t = await p.evaluate(() => ({ greeting: window.__sv.firstBotMs, answer: window.__sv.answerMs, source: window.__sv.ready.source }));
        if (t.source !== source) throw new Error(`demo page loaded the ${t.source}, expected the ${source}`);
        const problems = await w.all();
        if (problems.length) throw new Error(`demo page (${source}): ${problems.join("\n")}`);
        greeting.push(t.greeting);
        answer.push(t.answer);
        await context.close();
      }
      firstReply[source] = { runs, navigation_to_greeting_ms: median(greeting), navigation_to_first_answer_ms: median(answer), samples_answer_ms: answer };
    }
  }

  const modelBytes = await (await fetch(new URL(`bots/${stem}.svm`, server.url))).arrayBuffer();
  const definitionBytes = readFileSync(botPath);
  const results = roundAll({
    what: "headless Chromium (Debian), localhost, median of runs; latencies from performance.now() (0.1 ms resolution), classify = mean of `repeat` calls per text",
    chromium: browser.version(),
    bot: { definition: botPath.replace(ROOT + "/", ""), texts: opts.texts.replace(ROOT + "/", ""), n_texts: texts.length },
    sizes_bytes: {
      ...(await bundleSizes()),
      model: { raw: modelBytes.byteLength, gzip: gzipSync(Buffer.from(modelBytes), { level: 9 }).length },
      definition: { raw: definitionBytes.length, gzip: gzipSync(definitionBytes, { level: 9 }).length },
    },
    wasm_module_ms: inPage.module,
    load_ms: {
      model: { fetch: inPage.model.fetchMs, ...inPage.model.loadMs },
      definition: { fetch: inPage.definition.fetchMs, ...inPage.definition.loadMs },
    },
    latency_ms: { classify: inPage.latency.classifyMs, turn: inPage.latency.turnMs, repeat: inPage.latency.repeat },
    demo_page: firstReply,
  });
  const file = writeBrowserResults("bench", results);
  console.log(JSON.stringify(results, null, 2));
  console.log(`bench-browser: wrote ${file}`);
} finally {
  await browser.close();
  await server.stop();
}
