// Browser benchmark of the product recommender: a seeded synthetic catalog (default 10,000
// products, `sottovoce build --catalog synthetic:N:SEED`) compiled by the CLI, loaded with
// Catalog.fromBytes from the real pkg/sottovoce_catalog.js in headless Chromium, then ranked for
// the demo's dev requests (tests/fixtures/catalog/queries-dev.jsonl; the test requests are left
// alone). Prints and writes to bench-results/catalog.json: the compiled size (raw, gzip), the
// time to load and index it, and `rank(request, locale, 3)` latency p50/p99 in ms (each request
// `--repeat` times, after one warm-up pass), beside the native figures of `sottovoce eval`.
//
// The page is served cross-origin isolated (COOP + COEP through a Playwright route), so that
// performance.now() steps by 5 µs rather than 100 µs.
//
// Usage: make pkg cli && node scripts/bench-catalog.mjs [--products 10000] [--seed 1] [--repeat 20]
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { ROOT, launchChromium, startServer, isolateBenchPage } from "../tests/e2e/support.mjs";

const { values: opts } = parseArgs({
  options: {
    products: { type: "string", default: "10000" },
    seed: { type: "string", default: "1" },
    repeat: { type: "string", default: "20" },
  },
});
const spec = `synthetic:${opts.products}:${opts.seed}`;
const cli = join(ROOT, "target", "release", "sottovoce");
const queriesPath = join(ROOT, "tests/fixtures/catalog/queries-dev.jsonl");
const requests = readFileSync(queriesPath, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

const scratch = mkdtempSync(join(tmpdir(), "sottovoce-bench-catalog-"));
const svc = join(scratch, "catalog.svc");
execFileSync(cli, ["build", "--catalog", spec, "-o", svc], { stdio: "inherit" });
const bytes = readFileSync(svc);
const nativeJson = join(scratch, "native.json");
execFileSync(cli, ["eval", "--catalog", svc, "--queries", queriesPath, "--json", nativeJson], { stdio: "inherit" });
const native = JSON.parse(readFileSync(nativeJson, "utf8"));

const server = await startServer();
const browser = await launchChromium();
let result;
try {
  const page = await browser.newPage();
  await isolateBenchPage(page);
  await page.route("**/bench-catalog.svc", (route) => route.fulfill({ status: 200, contentType: "application/octet-stream", body: bytes }));
  await page.goto(new URL("bench.html", server.url).href);
  result = await page.evaluate(async ({ requests, repeat }) => {
    const m = await import("/pkg/sottovoce_catalog.js");
    await m.default();
    const t0 = performance.now();
    const buffer = await (await fetch("/bench-catalog.svc")).arrayBuffer();
    const t1 = performance.now();
    const catalog = m.Catalog.fromBytes(new Uint8Array(buffer));
    const t2 = performance.now();
    for (const r of requests) catalog.rank(r.text, r.locale, 3); // warm-up
    const times = [];
    for (let i = 0; i < repeat; i++) {
      for (const r of requests) {
        const s = performance.now();
        catalog.rank(r.text, r.locale, 3);
        times.push(performance.now() - s);
      }
    }
    times.sort((a, b) => a - b);
    const pct = (p) => times[Math.max(0, Math.ceil(times.length * p) - 1)];
    return {
      fetch_ms: t1 - t0, load_ms: t2 - t1, rank_ms_p50: pct(0.5), rank_ms_p99: pct(0.99), calls: times.length,
      cross_origin_isolated: self.crossOriginIsolated,
    };
  }, { requests, repeat: Number(opts.repeat) });
} finally {
  await browser.close();
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
}

const round = (x) => Math.round(x * 1000) / 1000;
const report = {
  catalog: spec,
  products: Number(opts.products),
  requests: queriesPath.slice(ROOT.length + 1),
  compiled_bytes: bytes.length,
  compiled_gzip_bytes: gzipSync(bytes, { level: 9 }).length,
  chromium: Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === "number" ? round(v) : v])),
  native: { latency_us_p50: native.latency_us_p50, latency_us_p99: native.latency_us_p99 },
  measured_at: new Date().toISOString(),
};
mkdirSync(join(ROOT, "bench-results"), { recursive: true });
writeFileSync(join(ROOT, "bench-results", "catalog.json"), JSON.stringify(report, null, 2) + "\n");
console.log(JSON.stringify(report, null, 2));
