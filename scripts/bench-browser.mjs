// Browser benchmark: the real pkg/ in headless Chromium, served by `sottovoce serve`.
//
// Measures, for the demo bot:
//   - bundle sizes (wasm, JS glue, widget; raw and gzip) and bot sizes (model, definition),
//   - WebAssembly module import + init time, of the runtime build (sottovoce.js) and the full one
//     (sottovoce_full.js),
//   - time to load the bot from the compiled model (runtime build) vs. training from the
//     definition in the page (full build), as the widget picks them,
//   - classification latency (`Chat.understand`) and whole-turn latency (`Chat.send`), p50/p99,
//   - on the demo page: time from navigation to the greeting and to the first answer (a question
//     sent the moment window.sottovoce exists), for both load paths.
// Writes the "bench" section of bench-results/browser.json (the e2e test writes "e2e"); another
// bot writes a section named after its file stem (e.g. "clinc150").
//
// Usage: node scripts/bench-browser.mjs [--runs N] [--texts file.jsonl] [--bot www/bots/store.json]
//   --pkg: another build of the npm package to serve at /pkg/ (default: pkg/), to compare builds;
//   its figures go to a section "<stem>-<folder name>" (bundle sizes stay those of pkg/).
//   --texts: JSONL with a "text" field per line (default: tests/fixtures/nlu/store-heldout.jsonl).
//   Datasets with their own bot (e.g. CLINC150) plug in through --bot + --texts; for them the
//   page measures classification only (`Chat.understand`, every text, see www/bench.js
//   `classify`), `--train-runs` times training from the definition (default: min(runs, 3)).
//   `make bench-browser-clinc` builds the CLINC150 definition with `sottovoce eval
//   --definition` and runs this on the 5,500 test queries.
//
// bench.html is served cross-origin isolated (COOP + COEP added through a Playwright route), so
// that performance.now() steps by 5 µs instead of 100 µs; the page reports the step it sees.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { servedGzip } from "./served-gzip.mjs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, bundleSizes, receivedBytes, launchChromium, recordWidgetEvents, startServer, watchPage, writeBrowserResults, isolateBenchPage } from "../tests/e2e/support.mjs";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    texts: { type: "string", default: join(ROOT, "tests/fixtures/nlu/store-heldout.jsonl") },
    bot: { type: "string", default: join(ROOT, "www/bots/store.json") },
    repeat: { type: "string", default: "20" },
    "train-runs": { type: "string" },
    pkg: { type: "string" },
  },
});
const runs = Number(opts.runs);
const botPath = resolve(opts.bot);
const stem = basename(botPath, ".json");
const isStore = stem === "store";
const trainRuns = Number(opts["train-runs"] ?? Math.max(1, Math.min(runs, 3)));

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
// Language detection is timed on the demo bot's held-out phrasings of every locale.
const heldout = readdirSync(join(ROOT, "tests/fixtures/nlu")).filter((f) => /^store-heldout(-[A-Za-z-]+)?\.jsonl$/.test(f) && !f.includes("fresh"));
const multilingual = heldout.flatMap((f) => readFileSync(join(ROOT, "tests/fixtures/nlu", f), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)));
const server = await startServer(["--bot", botPath, ...(opts.pkg ? ["--pkg", resolve(opts.pkg)] : [])]);
const browser = await launchChromium();
try {
  // 1. In-page measurements on bench.html.
  const page = await browser.newPage();
  const watch = await watchPage(page);
  await isolateBenchPage(page);
  await page.goto(new URL("bench.html", server.url).href);
  await page.waitForFunction(() => window.svBench !== undefined, null, { timeout: 60_000 });
  const inPage = await page.evaluate(async ({ stem, runs, trainRuns, texts, multilingual, repeat, isStore }) => ({
    module: window.svBench.module,
    moduleFull: window.svBench.moduleFull,
    model: await window.svBench.load(`/bots/${stem}.svm`, runs),
    definition: await window.svBench.load(`/bots/${stem}.json`, trainRuns),
    latency: isStore ? await window.svBench.latency(`/bots/${stem}.svm`, texts, repeat) : null,
    detect: isStore ? await window.svBench.detect(`/bots/${stem}.svm`, multilingual.map((r) => r.text), multilingual.map((r) => r.locale), repeat) : null,
    classify: isStore ? null : await window.svBench.classify(`/bots/${stem}.svm`, texts, repeat),
  }), { stem, runs, trainRuns, texts, multilingual, repeat: Number(opts.repeat), isStore });
  const problems = await watch.all();
  if (problems.length) throw new Error(`bench.html: ${problems.join("\n")}`);
  await page.close();

  // 2. The demo page, cold, in a fresh context per run: navigation → greeting, and → the answer
  //    to a question sent as soon as the widget's API exists. The definition path is measured by
  //    answering the page's request for the model with the definition JSON (the widget sniffs).
  const firstReply = {};
  if (isStore) {
    const definition = readFileSync(botPath);
    for (const source of ["model", "definition"]) {
      const greeting = [], answer = [];
      for (let i = 0; i < runs; i++) {
        const context = await browser.newContext({ locale: "en-US" });
        const p = await context.newPage();
        const w = await watchPage(p);
        if (source === "definition") {
          await p.route(/\/bots\/store(\.common)?\.svm$/, (route) => route.fulfill({ status: 200, contentType: "application/json", body: definition }));
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
  const us = (ms) => ms * 1000;
  const classify = inPage.classify && {
    method: "Chat.understand, one call per utterance, warm (one pass over every text first). " +
      "p50_us/p99_us: per text, `repeat` back-to-back calls timed together and divided; " +
      "single_call_*: each call timed alone (quantised to timer_step_us); pass_mean_us: " +
      "one pass over all texts, each once, divided by their number (median of 3 passes); " +
      "intent_only_*: as p50_us/p99_us for Chat.classify, the intent ranking alone (no entities, sentiment, locale)",
    n_texts: inPage.classify.texts,
    repeat: inPage.classify.repeat,
    cross_origin_isolated: inPage.classify.crossOriginIsolated,
    timer_step_us: us(inPage.classify.timerStepMs),
    p50_us: us(inPage.classify.repeatMeanMs.p50),
    p99_us: us(inPage.classify.repeatMeanMs.p99),
    mean_us: us(inPage.classify.repeatMeanMs.mean),
    intent_only_p50_us: us(inPage.classify.intentRepeatMeanMs.p50),
    intent_only_p99_us: us(inPage.classify.intentRepeatMeanMs.p99),
    intent_only_mean_us: us(inPage.classify.intentRepeatMeanMs.mean),
    single_call_p50_us: us(inPage.classify.singleMs.p50),
    single_call_p99_us: us(inPage.classify.singleMs.p99),
    pass_mean_us: us(inPage.classify.passMeanMs.p50),
  };
  const results = roundAll({
    what: "headless Chromium (Debian), localhost, median of runs; latencies from performance.now() " +
      `(step ${inPage.classify ? round(us(inPage.classify.timerStepMs), 1) + " µs" : "5 µs isolated / 100 µs otherwise"}), ` +
      "classify = mean of `repeat` calls per text",
    chromium: browser.version(),
    pkg: opts.pkg ?? "pkg",
    bot: { definition: botPath.replace(ROOT + "/", ""), texts: opts.texts.replace(ROOT + "/", ""), n_texts: texts.length },
    sizes_bytes: {
      ...(await bundleSizes()),
      // The model as `sottovoce serve` sends it (libdeflate, `crates/sottovoce-cli/src/gzip.rs`).
      model: { raw: modelBytes.byteLength, gzip: (await receivedBytes(server.url, `bots/${stem}.svm`)).bytes },
      definition: { raw: definitionBytes.length, gzip: (await servedGzip(definitionBytes)).length },
    },
    wasm_module_ms: inPage.module,
    wasm_module_full_ms: inPage.moduleFull,
    load_ms: {
      model: { fetch: inPage.model.fetchMs, ...inPage.model.loadMs },
      definition: { fetch: inPage.definition.fetchMs, ...inPage.definition.loadMs },
    },
    ...(inPage.latency
      ? { latency_ms: { classify: inPage.latency.classifyMs, turn: inPage.latency.turnMs, repeat: inPage.latency.repeat } }
      : {}),
    ...(classify ? { classify } : {}),
    ...(inPage.detect
      ? {
          language_detection: {
            method: "Chat.detectLanguage (locale classifier + built-in identifier + explicit request, one analysis of the text), " +
              "per text `repeat` back-to-back calls timed together and divided; the demo bot's held-out phrasings of every locale",
            files: heldout,
            n_texts: inPage.detect.texts,
            locale_accuracy: inPage.detect.localeAccuracy,
            p50_us: us(inPage.detect.repeatMeanMs.p50),
            p99_us: us(inPage.detect.repeatMeanMs.p99),
            mean_us: us(inPage.detect.repeatMeanMs.mean),
          },
        }
      : {}),
    ...(isStore ? { demo_page: firstReply } : {}),
  });
  const section = (isStore ? "bench" : stem) + (opts.pkg ? `-${basename(resolve(opts.pkg))}` : "");
  const file = writeBrowserResults(section, results);
  console.log(JSON.stringify(results, null, 2));
  if (classify) {
    console.log(`${stem}: understand p50 ${results.classify.p50_us} µs, p99 ${results.classify.p99_us} µs; ` +
      `intent only p50 ${results.classify.intent_only_p50_us} µs, p99 ${results.classify.intent_only_p99_us} µs ` +
      `(${texts.length} texts, one at a time); load model ${results.load_ms.model.p50} ms; ` +
      `train from definition ${results.load_ms.definition.p50} ms (first run of the page ${results.load_ms.definition.first} ms)`);
  }
  if (results.language_detection) {
    const d = results.language_detection;
    console.log(`language detection in Chromium: p50 ${d.p50_us} µs, p99 ${d.p99_us} µs, mean ${d.mean_us} µs per message ` +
      `(${d.n_texts} held-out phrasings in ${heldout.length} files; locale right ${(100 * d.locale_accuracy).toFixed(1)} %)`);
  }
  console.log(`bench-browser: wrote ${file}`);
} finally {
  await browser.close();
  await server.stop();
}
