// The in-page half of the browser benchmark (www/bench.html). Exposes window.svBench for
// scripts/bench-browser.mjs; opened by hand (bench.html?auto), it runs the default measurements.
// All times are milliseconds from performance.now(); per-call latencies are means over
// `repeat` back-to-back calls of the same text, because Chromium coarsens performance.now()
// to 0.1 ms without cross-origin isolation.

// Two builds, as the widget uses them: the runtime build (`sottovoce`) loads compiled models and
// classifies; the full build (`sottovoce/full`) trains definition JSON in the page.
async function importBuild(url) {
  const started = performance.now();
  const mod = await import(url);
  const imported = performance.now();
  await mod.default();
  return { mod, timing: { importMs: imported - started, initMs: performance.now() - imported } };
}
const runtime = await importBuild("./pkg/sottovoce.js");
const full = await importBuild("./pkg/sottovoce_full.js");
const mod = runtime.mod;

/** The build the widget would use for `bytes`: runtime for a model ("SVM\0"), else full. */
function buildFor(bytes) {
  const isModel = bytes.length >= 4 && bytes[0] === 0x53 && bytes[1] === 0x56 && bytes[2] === 0x4d && bytes[3] === 0;
  return isModel ? runtime.mod : full.mod;
}

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, min: s[0], p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1], mean };
}

async function fetchBytes(url) {
  const t0 = performance.now();
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { bytes, fetchMs: performance.now() - t0 };
}

/** Loads the bot at `url` `runs` times (model file with the runtime build, or definition JSON
 * trained here by the full build). */
async function load(url, runs = 5) {
  const { bytes, fetchMs } = await fetchBytes(url);
  const build = buildFor(bytes);
  const samples = [];
  let source = null;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const chat = new build.Chat(bytes, { persist: false, locale: "en", seed: 1 });
    samples.push(performance.now() - t0);
    source = chat.source();
    chat.free();
  }
  return { url, source, bytes: bytes.length, fetchMs, loadMs: { ...summary(samples), first: samples[0] } };
}

/** Per text: the mean ms of `repeat` back-to-back `call(text)` calls. */
function repeatMeanMs(texts, repeat, call) {
  return texts.map((text) => {
    const t0 = performance.now();
    for (let i = 0; i < repeat; i++) call(text);
    return (performance.now() - t0) / repeat;
  });
}

/** Per text: the mean ms of `repeat` back-to-back `chat.understand(text)` calls. */
function understandMs(chat, texts, repeat) {
  return repeatMeanMs(texts, repeat, (text) => chat.understand(text));
}

/** Classification (`understand`) and whole-turn (`send`) latency over `texts`. */
async function latency(url, texts, repeat = 10) {
  const { bytes } = await fetchBytes(url);
  const chat = new mod.Chat(bytes, { persist: false, locale: "en", seed: 1 });
  for (const t of texts.slice(0, 20)) chat.understand(t); // warm-up
  const classify = understandMs(chat, texts, repeat);
  const turn = [];
  for (const text of texts) {
    const t0 = performance.now();
    chat.send(text, Date.now());
    turn.push(performance.now() - t0);
    if (turn.length % 50 === 0) chat.reset(Date.now()); // keep the transcript short
  }
  chat.free();
  return { texts: texts.length, repeat, classifyMs: summary(classify), turnMs: summary(turn) };
}

/** The smallest step performance.now() takes here, in ms (5 µs cross-origin isolated, else 100 µs). */
function timerResolution() {
  let step = Infinity;
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    let t1 = t0;
    while (t1 === t0) t1 = performance.now();
    step = Math.min(step, t1 - t0);
  }
  return step;
}

/**
 * Classification latency of `chat.understand`, one call per utterance, on every text in `texts`
 * after one warm-up pass. Three views, because Chromium's performance.now() is coarse:
 * `single` times each call alone (quantised to the timer step), `repeatMean` times `repeat`
 * back-to-back calls of each text and divides (per-text latency, spikes averaged), and
 * `passMean` is one pass over all texts (each once) divided by their number.
 */
async function classify(url, texts, repeat = 20) {
  const { bytes } = await fetchBytes(url);
  const chat = new mod.Chat(bytes, { persist: false, locale: "en", seed: 1 });
  for (const t of texts) chat.understand(t); // warm-up: every text once
  const single = [];
  for (const text of texts) {
    const t0 = performance.now();
    chat.understand(text);
    single.push(performance.now() - t0);
  }
  const repeated = understandMs(chat, texts, repeat);
  // The intent classifier alone (`chat.classify`: the ranking, no entities or sentiment).
  for (const t of texts) chat.classify(t);
  const intentOnly = repeatMeanMs(texts, repeat, (text) => chat.classify(text));
  const passes = [];
  for (let p = 0; p < 3; p++) {
    const t0 = performance.now();
    for (const text of texts) chat.understand(text);
    passes.push((performance.now() - t0) / texts.length);
  }
  chat.free();
  return {
    texts: texts.length,
    repeat,
    crossOriginIsolated: self.crossOriginIsolated,
    timerStepMs: timerResolution(),
    singleMs: summary(single),
    repeatMeanMs: summary(repeated),
    intentRepeatMeanMs: summary(intentOnly),
    passMeanMs: summary(passes),
  };
}

/**
 * Language detection latency (`chat.detectLanguage`: locale classifier, built-in identifier
 * and explicit request, from one analysis of the text) per text, as `repeatMeanMs`, on a
 * model with every locale loaded, after one warm-up pass; and how often its locale is the
 * text's own (`locales[i]`, BCP 47).
 */
async function detect(url, texts, locales, repeat = 20) {
  const { bytes } = await fetchBytes(url);
  const chat = new mod.Chat(bytes, { persist: false, locale: "en", seed: 1 });
  let right = 0;
  texts.forEach((t, i) => { if (chat.detectLanguage(t).locale === locales[i]) right++; });
  const repeated = repeatMeanMs(texts, repeat, (text) => chat.detectLanguage(text));
  chat.free();
  return { texts: texts.length, repeat, localeAccuracy: right / texts.length, repeatMeanMs: summary(repeated) };
}

window.svBench = Object.freeze({
  module: runtime.timing,
  moduleFull: full.timing,
  summary,
  load,
  latency,
  classify,
  detect,
});

const state = document.getElementById("state");
state.textContent = "Ready.";
if (new URLSearchParams(location.search).has("auto")) {
  state.textContent = "Running…";
  const results = {
    module: window.svBench.module,
    moduleFull: window.svBench.moduleFull,
    model: await load("/bots/store.svm"),
    definition: await load("/bots/store.json", 3),
  };
  document.getElementById("out").textContent = JSON.stringify(results, null, 2);
  state.textContent = "Done.";
}
