// What a production page's first visit downloads before the bot's first reply, measured on the
// wire: `sottovoce serve` is started on the demo site, and the files the widget fetches for a
// compiled, split model are requested with `Accept-Encoding: gzip`, as a browser does. The
// files are the runtime wasm, its glue, the minified widget, the model's common file and the
// visitor's locale part. The bytes are counted as received, still compressed. Issue 10's goal
// for the widget alone is 250 KB, and issue 19's for the widget and one locale's model is 450 KB.
//
// Prints one line per locale and writes bench-results/first-load.json.
// Usage: node scripts/first-load.mjs [--bot store]   (after `make pkg cli`; `make first-load`)
import { writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, receivedBytes, startServer } from "../tests/e2e/support.mjs";

const { values: opts } = parseArgs({ options: { bot: { type: "string", default: "store" } } });
const WIDGET = ["pkg/sottovoce_bg.wasm", "pkg/sottovoce.js", "sottovoce.min.js"];
const WIDGET_GOAL = 250_000;
const FIRST_LOAD_GOAL = 450_000;

const locales = JSON.parse(readFileSync(join(ROOT, "www", "bots", `${opts.bot}.json`), "utf8")).locales;
const server = await startServer();
try {
  const files = {};
  for (const path of [...WIDGET, `bots/${opts.bot}.common.svm`, ...locales.map((l) => `bots/${opts.bot}.${l}.svm`)]) {
    files[path] = await receivedBytes(server.url, path);
    if (files[path].encoding !== "gzip") throw new Error(`/${path} was sent ${files[path].encoding}, not gzip`);
  }
  const widget = WIDGET.reduce((sum, p) => sum + files[p].bytes, 0);
  const common = files[`bots/${opts.bot}.common.svm`].bytes;
  const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
  console.log(`first-load: widget ${kb(widget)} (${WIDGET.map((p) => `${p} ${kb(files[p].bytes)}`).join(", ")}; goal ${kb(WIDGET_GOAL)}), ` +
    `model common file ${kb(common)}`);
  const perLocale = {};
  for (const l of locales) {
    const part = files[`bots/${opts.bot}.${l}.svm`].bytes;
    const total = widget + common + part;
    perLocale[l] = { part, total };
    console.log(`first-load: ${l.padEnd(5)} part ${kb(part)}, first load ${kb(total)} ${total <= FIRST_LOAD_GOAL ? "within" : "over"} the ${kb(FIRST_LOAD_GOAL)} goal`);
  }
  const out = join(ROOT, "bench-results", "first-load.json");
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(out, JSON.stringify({
    bot: opts.bot, measured_at: new Date().toISOString(), unit: "bytes as received, gzip",
    files: Object.fromEntries(Object.entries(files).map(([p, f]) => [p, f.bytes])),
    widget, widget_goal: WIDGET_GOAL, model_common: common, locales: perLocale, first_load_goal: FIRST_LOAD_GOAL,
  }, null, 2) + "\n");
  console.log(`first-load: wrote ${out}`);
} finally {
  await server.stop();
}
