// Shared by the end-to-end tests and the browser benchmark: start the real `sottovoce serve` on a
// free port, launch Debian's Chromium through playwright-core, and watch a page for CSP
// violations, uncaught errors and console errors.
import { after, before } from "node:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/// Chromium flags for this machine kind (see ../shared/TOOLCHAIN.md): no sandbox as root, and
/// nothing that reaches for the network on its own.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

/// Starts `target/release/sottovoce serve --port 0` and resolves to { url, stop, output } once it
/// prints its URL. Extra arguments (e.g. ["--bot", "path.json"], or a fixed ["--port", "8123"])
/// are passed through. Without a
/// `--db`, the escalation server gets a fresh SQLite file in a temporary folder (removed by stop).
export async function startServer(extraArgs = []) {
  let scratch = null;
  if (!extraArgs.includes("--db")) {
    scratch = mkdtempSync(join(tmpdir(), "sottovoce-e2e-"));
    extraArgs = [...extraArgs, "--db", join(scratch, "escalations.db")];
  }
  const binary = join(ROOT, "target", "release", "sottovoce");
  for (const [path, hint] of [[binary, "make cli"], [join(ROOT, "pkg", "sottovoce_bg.wasm"), "make pkg"]]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`${hint}\` first`);
  }
  const portArgs = extraArgs.includes("--port") ? [] : ["--port", "0"];
  const child = spawn(binary, ["serve", ...portArgs, ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, PORT: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sottovoce serve printed no URL in 60 s:\n${output}`)), 60_000);
    const look = (chunk) => {
      output += chunk;
      const m = /http:\/\/[\d.]+:\d+\//.exec(output);
      if (m) { clearTimeout(timer); resolve(m[0]); }
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`sottovoce serve exited with ${code}:\n${output}`)); });
  });
  const stop = () => new Promise((resolve) => {
    const done = () => {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null) return done();
    child.once("exit", done);
    child.kill("SIGTERM");
  });
  return { url, stop, output: () => output };
}

/// Collects everything that must fail a test: CSP violations (from the page's own
/// `securitypolicyviolation` events and Chromium's console report), uncaught page errors and
/// console errors. Call before the first navigation.
/**
 * Registers the suite's `before` and `after` hooks: starts `sottovoce serve` (with `extraArgs`)
 * and Chromium before the first test and stops both after the last. Returns an object whose
 * `server` and `browser` fields are set once `before` has run.
 */
export function useServerAndBrowser(extraArgs = []) {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await startServer(extraArgs);
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/// Types `text` into the widget's message box, presses Enter and waits for the next widget
/// `message` event (needs recordWidgetEvents).
export async function ask(page, text) {
  const before = await page.evaluate(() => window.__sv.messages.length);
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
  await page.waitForFunction((n) => window.__sv.messages.length > n, before, { timeout: 10_000 });
}

/// Polls `condition` (a test-side function) every 20 ms until it returns true; throws after
/// `timeoutMs` with `what` in the message. For state the test holds itself (a route handler's
/// counter), which the page's own signals may run ahead of.
export async function until(condition, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function watchPage(page) {
  const problems = [];
  await page.addInitScript(() => {
    window.__sottovoceCsp = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__sottovoceCsp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    else if (/Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  return {
    problems,
    /// Every problem so far, CSP violations reported inside the page included.
    async all() {
      const csp = await page.evaluate(() => window.__sottovoceCsp ?? []).catch(() => []);
      return [...problems, ...csp.map((c) => `CSP violation: ${c}`)];
    },
  };
}

/// Records the widget's events in `window.__sv` through the public `window.sottovoce.on`, as a
/// page's own analytics would: intents, messages, the time of the first bot message
/// (`performance.now()`, ms since navigation), and the ready / error events.
export async function recordWidgetEvents(page) {
  await page.addInitScript(() => {
    window.__sv = { intents: [], messages: [], firstBotMs: null, ready: null, error: null };
    document.addEventListener("DOMContentLoaded", () => {
      if (!window.sottovoce) return;
      window.sottovoce.on("intent", (e) => window.__sv.intents.push(e));
      window.sottovoce.on("ready", (e) => { window.__sv.ready = e; });
      window.sottovoce.on("error", (e) => { window.__sv.error = e; });
      window.sottovoce.on("message", (m) => {
        window.__sv.messages.push(m);
        if (m.from === "bot" && window.__sv.firstBotMs === null) window.__sv.firstBotMs = performance.now();
      });
    });
  });
}

/// Merges `section` into bench-results/browser.json under `key` (the e2e test and the benchmark
/// each own one key), so neither run erases the other's numbers.
/// Serves `page`'s bench page (bench.html) cross-origin isolated (COOP + COEP added through a
/// route), so that performance.now() steps by 5 µs instead of 100 µs.
export async function isolateBenchPage(page) {
  await page.route("**/bench.html", async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers(), "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
    await route.fulfill({ response, headers });
  });
}

/// Serves `page` the demo page of the server at `serverUrl` with the widget's `data-bot` set to
/// `botPath` instead of the demo store bot.
export async function demoPageWithBot(page, serverUrl, botPath) {
  await page.route(serverUrl, async (route) => {
    const response = await route.fetch();
    const html = (await response.text()).replace('data-bot="/bots/store.common.svm"', `data-bot="${botPath}"`);
    await route.fulfill({ response, body: html });
  });
}

/// Sends `text` from the chat box of a widget that could not load its bot, and returns what the
/// box holds once the widget says the message was not sent (the text itself, when nothing is
/// lost).
export async function unsentMessage(page, text) {
  await page.getByRole("button", { name: "Open chat" }).click();
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
  await page.getByText("That message wasn't sent").waitFor();
  return box.inputValue();
}

export function writeBrowserResults(key, section) {
  const file = join(ROOT, "bench-results", "browser.json");
  mkdirSync(dirname(file), { recursive: true });
  let all = {};
  try { all = JSON.parse(readFileSync(file, "utf8")); } catch { /* first run */ }
  all[key] = { ...section, measured_at: new Date().toISOString() };
  writeFileSync(file, JSON.stringify(all, null, 2) + "\n");
  return file;
}

/// The bytes of `path` (relative to `base`, a server's URL) as sent to a browser that accepts
/// gzip, counted still compressed: resolves to `{ bytes, encoding }` (`encoding` is the
/// Content-Encoding, `identity` when none). Rejects on any status but 200.
export function receivedBytes(base, path) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { headers: { "accept-encoding": "gzip" } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`GET /${path}: HTTP ${res.statusCode}`));
      }
      let bytes = 0;
      res.on("data", (chunk) => { bytes += chunk.length; });
      res.on("end", () => resolve({ bytes, encoding: res.headers["content-encoding"] ?? "identity" }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/// Sizes of the npm package's bundle, raw and gzip as served, in bytes: the gzip size is that of
/// the `.gz` sibling `make pkg` writes and `sottovoce serve` sends; the widget's readable source,
/// which has none, is compressed as `make pkg` would (`scripts/served-gzip.mjs`).
export async function bundleSizes() {
  const { servedGzip } = await import("../../scripts/served-gzip.mjs");
  const size = async (path) => {
    const bytes = readFileSync(path);
    const gz = existsSync(`${path}.gz`) ? statSync(`${path}.gz`).size : (await servedGzip(bytes)).length;
    return { raw: bytes.length, gzip: gz };
  };
  const out = {};
  // The runtime build (what the widget loads for a compiled model), then the full build.
  for (const f of ["sottovoce_bg.wasm", "sottovoce.js", "sottovoce_full_bg.wasm", "sottovoce_full.js"]) {
    out[f] = await size(join(ROOT, "pkg", f));
  }
  // The widget's source, and the minified copy `make pkg` writes for production pages.
  for (const f of ["sottovoce.js", "sottovoce.min.js"]) {
    if (!existsSync(join(ROOT, "www", f))) continue;
    out[`www/${f}`] = await size(join(ROOT, "www", f));
  }
  return out;
}

/// For a POST to the escalation server's `api/kpis` (the owner's `data-kpis="on"`): true when its
/// body is an anonymous KPI report, counts only. Throws (failing the test) when such a request
/// carries anything else: a key outside the report, or a string other than the locale, the
/// outcome and intent names. Other requests are false.
export function isKpiReport(method, url, body) {
  if (method !== "POST" || !/\/api\/kpis$/.test(new URL(url).pathname)) return false;
  const report = JSON.parse(body);
  const keys = (o) => Object.keys(o).sort().join(",");
  if (keys(report) !== "id,kpis") throw new Error(`a KPI report with other keys: ${body}`);
  const k = report.kpis;
  if (keys(k) !== "csat,fallbacks,first_answer_ms,intents,locale,messages,outcome,picks") throw new Error(`KPI keys: ${body}`);
  const counts = [k.messages, k.fallbacks, k.picks, ...k.csat, ...Object.values(k.intents)];
  if (!counts.every(Number.isInteger) || !(k.first_answer_ms === null || Number.isInteger(k.first_answer_ms))) throw new Error(`KPI counts: ${body}`);
  if (![null, "contained", "escalated", "abandoned"].includes(k.outcome) || !/^[A-Za-z0-9-]+$/.test(k.locale)) throw new Error(`KPI labels: ${body}`);
  if (!Object.keys(k.intents).every((name) => /^[a-z0-9_]+$/.test(name))) throw new Error(`KPI intent names: ${body}`);
  return true;
}

/** Run in the page (`page.evaluate(forbiddenInPage, host)`): everything that could run script
 *  or leave for a forbidden URL, in the shadow DOM of the element matching `host` (the widget),
 *  or in the whole document when `host` is null (the inbox): script-like elements, event
 *  handler and srcdoc attributes, and href/src outside http, https, mailto and tel (src only
 *  http and https; a form's action only empty). Returns one description per finding. */
export function forbiddenInPage(host) {
  const root = host ? document.querySelector(host).shadowRoot : document;
  const bad = [];
  const allowed = { href: /^(https?|mailto|tel):$/, src: /^https?:$/, action: /^$/, formaction: /^$/ };
  for (const el of root.querySelectorAll("*")) {
    if (!host && el.closest("head")) continue; // the inbox's own head: its script, stylesheet and meta
    if (/^(script|iframe|object|embed|base|meta|frame|frameset)$/i.test(el.localName)) bad.push(`<${el.localName}>`);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || name === "srcdoc" || name === "xlink:href") bad.push(`${el.localName}[${name}=${attr.value}]`);
      if (name in allowed) {
        let protocol = "";
        try { protocol = new URL(attr.value, document.baseURI).protocol; } catch { /* unparsable */ }
        if (!allowed[name].test(protocol)) bad.push(`${el.localName}[${name}=${attr.value}]`);
      }
    }
  }
  return bad;
}

/** Opens the inbox of the server at `url` (ending in `/`) in `page`, signs in through its form
 *  and opens the conversation whose list entry matches `name` (a RegExp); returns its
 *  transcript log. */
export async function openInInbox(page, url, email, password, name) {
  await page.goto(`${url}inbox/`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name }).click();
  return page.getByRole("log", { name: "Transcript" });
}
