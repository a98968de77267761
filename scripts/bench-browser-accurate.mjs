// Browser benchmark of the accuracy tier: a model built by `sottovoce build --encoder` and its
// `.sven` copy of the encoder, run by the real pkg/ (sottovoce.js + sottovoce_encoder.js) in
// headless Chromium, as the widget runs them.
//
// Measures: what the tier downloads (the .sven file and the encoder module, raw and gzip), the
// time to start the encoder module, to read the .sven file and to open the chat with it; per
// message, the latency of `Chat.understand` (embedding included) and of the embedding alone,
// each call timed once (p50/p90/p99 over the texts); and the accuracy on the same texts, in-scope
// (best intent) and overall (out-of-scope as a class, the bot's own rule), to show the browser
// reproduces `sottovoce eval`. Writes the "<stem>-accurate" section of bench-results/browser.json.
//
// Usage: node scripts/bench-browser-accurate.mjs --model target/bench/clinc150-accurate.svm
//   --texts ../shared/data/clinc150/test.jsonl [--sample 1000]
//   The .sven file is read from beside the model; rows are {"text", "intent"} (`oos` for out of
//   scope); --sample takes every k-th row so that about that many are run.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, launchChromium, startServer, watchPage, writeBrowserResults, isolateBenchPage } from "../tests/e2e/support.mjs";

const { values: opts } = parseArgs({
  options: {
    model: { type: "string" },
    texts: { type: "string" },
    sample: { type: "string", default: "1000" },
  },
});
if (!opts.model || !opts.texts) throw new Error("usage: bench-browser-accurate.mjs --model file.svm --texts file.jsonl [--sample N]");
const modelPath = resolve(opts.model);
const svenPath = modelPath.replace(/\.svm$/, ".sven");
for (const p of [modelPath, svenPath, opts.texts]) if (!existsSync(p)) throw new Error(`${p}: no such file`);
const rows = readFileSync(opts.texts, "utf8").split("\n").filter((l) => l.trim()).map((l, i) => {
  try { return JSON.parse(l); } catch (e) { throw new Error(`${opts.texts}:${i + 1}: ${e.message}`); }
});
const step = Math.max(1, Math.floor(rows.length / Number(opts.sample)));
const sample = rows.filter((_, i) => i % step === 0);
const stem = basename(modelPath, ".svm");
const sizes = (path) => { const b = readFileSync(path); return { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; };

const server = await startServer();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const watch = await watchPage(page);
  await isolateBenchPage(page);
  for (const [path, file] of [["/bench-accurate/model.svm", modelPath], ["/bench-accurate/model.sven", svenPath]]) {
    await page.route(new URL(path, server.url).href, (route) => route.fulfill({ status: 200, contentType: "application/octet-stream", body: readFileSync(file) }));
  }
  await page.goto(new URL("bench.html", server.url).href);
  await page.waitForFunction(() => window.svBench !== undefined, null, { timeout: 60_000 });
  const inPage = await page.evaluate(async ({ sample }) => {
    const get = async (url) => new Uint8Array(await (await fetch(url, { cache: "no-store" })).arrayBuffer());
    const runtime = await import("./pkg/sottovoce.js");
    await runtime.default();
    let t0 = performance.now();
    const encoderModule = await import("./pkg/sottovoce_encoder.js");
    const encoderWasm = await encoderModule.default();
    const moduleMs = performance.now() - t0;
    const model = await get("/bench-accurate/model.svm");
    t0 = performance.now();
    const file = await get("/bench-accurate/model.sven");
    const fetchMs = performance.now() - t0;
    t0 = performance.now();
    const encoder = new encoderModule.Encoder(file);
    const readMs = performance.now() - t0;
    // The encoder module's whole linear memory once the copy is read (it only grows).
    const memoryAfterRead = encoderWasm.memory.buffer.byteLength;
    const vectors = runtime.WordVectors.fromEncoder((text) => encoder.embed(text), encoder.hash(), encoder.source(), encoder.dim());
    t0 = performance.now();
    const chat = runtime.Chat.withVectors(model, vectors, { persist: false, locale: "en", seed: 1 });
    const openMs = performance.now() - t0;
    for (const r of sample.slice(0, 10)) chat.understand(r.text); // warm-up
    const understand = [], embed = [];
    let inScope = 0, inScopeRight = 0, overallRight = 0;
    for (const r of sample) {
      let t = performance.now();
      const u = chat.understand(r.text);
      understand.push(performance.now() - t);
      t = performance.now();
      encoder.embed(r.text.toLowerCase());
      embed.push(performance.now() - t);
      const said = u.intent === null || u.intent === "out_of_scope" ? "oos" : u.intent;
      if (r.intent !== "oos") {
        inScope += 1;
        if (u.ranking[0]?.intent === r.intent) inScopeRight += 1;
      }
      if (said === r.intent) overallRight += 1;
    }
    const memoryAfterUse = encoderWasm.memory.buffer.byteLength;
    chat.free();
    const stats = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
      return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
    };
    return {
      memoryAfterRead, memoryAfterUse, moduleMs, fetchMs, readMs, openMs, understandMs: stats(understand), embedMs: stats(embed),
      inScope, inScopeAccuracy: inScopeRight / inScope, overallAccuracy: overallRight / sample.length,
      crossOriginIsolated: self.crossOriginIsolated,
    };
  }, { sample: sample.map((r) => ({ text: r.text, intent: r.intent })) });
  const problems = await watch.all();
  if (problems.length) throw new Error(`bench.html: ${problems.join("\n")}`);
  const round = (x) => Math.round(x * 100) / 100;
  const roundAll = (v) => typeof v === "number" ? round(v) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundAll(x)])) : v;
  const download = {
    sven: sizes(svenPath),
    encoder_wasm: sizes(join(ROOT, "pkg/sottovoce_encoder_bg.wasm")),
    encoder_glue: sizes(join(ROOT, "pkg/sottovoce_encoder.js")),
  };
  download.total_gzip = download.sven.gzip + download.encoder_wasm.gzip + download.encoder_glue.gzip;
  const results = roundAll({
    what: "accuracy tier in headless Chromium, localhost: every call timed alone (performance.now(), " +
      `${inPage.crossOriginIsolated ? "cross-origin isolated, 5 µs steps" : "100 µs steps"}); understand = the whole ` +
      "classification of a message, the embedding included; embed = Encoder.embed alone",
    chromium: browser.version(),
    model: modelPath.replace(ROOT + "/", ""),
    texts: opts.texts, n_texts: sample.length, n_in_scope: inPage.inScope,
    download_bytes: download,
    model_bytes: sizes(modelPath),
    encoder_memory_bytes: { after_reading_the_copy: inPage.memoryAfterRead, after_every_text: inPage.memoryAfterUse },
    load_ms: { encoder_module: inPage.moduleMs, fetch_sven_localhost: inPage.fetchMs, read_sven: inPage.readMs, open_chat: inPage.openMs },
    understand_ms: inPage.understandMs,
    embed_ms: inPage.embedMs,
    accuracy_percent: { in_scope: 100 * inPage.inScopeAccuracy, overall_with_out_of_scope: 100 * inPage.overallAccuracy },
  });
  const file = writeBrowserResults(`${stem}-accurate`.replace(/-accurate-accurate$/, "-accurate"), results);
  console.log(JSON.stringify(results, null, 2));
  console.log(`${stem}: accuracy tier in Chromium: understand p50 ${results.understand_ms.p50} ms, p99 ${results.understand_ms.p99} ms ` +
    `(embedding alone p50 ${results.embed_ms.p50} ms) over ${sample.length} texts; download ${(download.total_gzip / 1e6).toFixed(2)} MB gzip ` +
    `(.sven ${(download.sven.gzip / 1e6).toFixed(2)} MB + encoder module ${((download.encoder_wasm.gzip + download.encoder_glue.gzip) / 1e3).toFixed(1)} KB); ` +
    `encoder's wasm memory ${(inPage.memoryAfterUse / 2 ** 20).toFixed(1)} MiB; read .sven ${results.load_ms.read_sven} ms, open chat ${results.load_ms.open_chat} ms; in-scope accuracy ${(100 * inPage.inScopeAccuracy).toFixed(2)} %, ` +
    `overall ${(100 * inPage.overallAccuracy).toFixed(2)} %`);
  console.log(`bench-browser-accurate: wrote ${file}`);
} finally {
  await browser.close();
  await server.stop();
}
