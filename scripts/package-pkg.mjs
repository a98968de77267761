// Turns wasm-pack's output in pkg/ into the npm package `sottovoce`: writes package.json (name,
// version from the binding crate, entry points, TypeScript types, the files list), checks that the
// types are really there, minifies the JavaScript glue with esbuild (the types stay in the .d.ts;
// a third of the gzip size, and the page downloads it on every first visit), writes gzip siblings
// (`*.gz`, not part of the npm package, made by Zopfli: `scripts/served-gzip.mjs`) that
// `sottovoce serve` sends instead of compressing on every request, and prints the bundle sizes,
// which are those siblings' sizes.
//
// Two entry points, the same `Chat` API: `sottovoce` (sottovoce.js + sottovoce_bg.wasm, the
// runtime build: loads compiled models from `sottovoce build`) and `sottovoce/full`
// (sottovoce_full.js + sottovoce_full_bg.wasm: also validates and trains definition JSON).
// A third, `sottovoce/catalog` (sottovoce_catalog.js + _bg.wasm), is the product recommender's
// `Catalog`, a module of its own that the widget fetches only when a turn recommends products.
//
// Usage: node scripts/package-pkg.mjs [pkg-dir]     (run by `make pkg` after wasm-opt)
import { readFileSync, writeFileSync, existsSync, copyFileSync } from "node:fs";
import { servedGzip } from "./served-gzip.mjs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = process.argv[2] ?? join(root, "pkg");

function fail(message) {
  console.error(`package-pkg: ${message}`);
  process.exit(1);
}

// The version comes from the binding crate, so the npm package and the crate cannot drift.
const cargo = readFileSync(join(root, "crates/sottovoce-wasm/Cargo.toml"), "utf8");
const version = /^version\s*=\s*"([^"]+)"/m.exec(cargo)?.[1] ?? fail("no version in crates/sottovoce-wasm/Cargo.toml");

const entries = ["sottovoce", "sottovoce_full"];
// sottovoce_encoder: the accuracy tier's sentence encoder (wasm simd128), loaded only for a
// model that needs it.
const modules = [...entries, "sottovoce_catalog", "sottovoce_encoder"];
const files = modules.flatMap((e) => [`${e}.js`, `${e}_bg.wasm`, `${e}.d.ts`, `${e}_bg.wasm.d.ts`]);
for (const f of files) {
  if (!existsSync(join(pkg, f))) fail(`${join(pkg, f)} is missing; run wasm-pack first (make pkg)`);
}
for (const e of entries) {
  const types = readFileSync(join(pkg, `${e}.d.ts`), "utf8");
  for (const needle of ["export class Chat", "export interface ChatOptions", "export interface Turn", "send(text: string, now: number, utc_offset_min?: number | null): Turn"]) {
    if (!types.includes(needle)) fail(`${e}.d.ts lacks \`${needle}\`: the TypeScript types are incomplete`);
  }
}
// wasm-bindgen's classes declare `[Symbol.dispose]()` (for `using`), which only TypeScript's
// `esnext.disposable` lib knows: without this reference a project on the default `lib` of its
// target (ES2022…) fails `tsc` inside our types (examples/ type-check with such a `lib`).
for (const e of modules) {
  const path = join(pkg, `${e}.d.ts`);
  const types = readFileSync(path, "utf8");
  const reference = '/// <reference lib="esnext.disposable" />\n';
  if (types.includes("Symbol.dispose") && !types.startsWith(reference)) writeFileSync(path, reference + types);
}
for (const needle of ["export class Catalog", "export interface ProductCard", "rank(request: string, locale: string, limit: number, context?: RankContext | null): ProductCard[]", "static fromBytes(bytes: Uint8Array): Catalog"]) {
  if (!readFileSync(join(pkg, "sottovoce_catalog.d.ts"), "utf8").includes(needle)) fail(`sottovoce_catalog.d.ts lacks \`${needle}\``);
}
// The static word-vector table a bot may opt into (`word_vectors` in its definition), under the
// name the widget fetches (`vectors-<name>.svvec` beside the wasm, only for such a bot), with its
// Apache-2.0 LICENSE and NOTICE.
const vectors = join(root, "assets", "vectors");
for (const [from, to] of [["minilm-l6-d64.svvec", "vectors-minilm-l6-d64.svvec"], ["LICENSE", "vectors-LICENSE"], ["NOTICE", "vectors-NOTICE"]]) {
  if (!existsSync(join(vectors, from))) fail(`${join(vectors, from)} is missing`);
  copyFileSync(join(vectors, from), join(pkg, to));
  files.push(to);
}
// The accuracy tier's encoder copies (`<bot>.sven`, written by `sottovoce build --encoder` and
// served beside the model) are derived from all-MiniLM-L6-v2: its Apache-2.0 license and notice.
for (const [from, to] of [["LICENSE", "encoder-LICENSE"], ["NOTICE", "encoder-NOTICE"]]) {
  const path = join(root, "assets", "encoder", from);
  if (!existsSync(path)) fail(`${path} is missing`);
  copyFileSync(path, join(pkg, to));
  files.push(to);
}
// The script-tag widget's global (`window.sottovoce`), typed for pages written in TypeScript:
// `/// <reference types="sottovoce/global" />` (www/sottovoce-global.d.ts says how).
copyFileSync(join(root, "www", "sottovoce-global.d.ts"), join(pkg, "global.d.ts"));
files.push("global.d.ts");
if (existsSync(join(root, "README.md"))) {
  copyFileSync(join(root, "README.md"), join(pkg, "README.md"));
  files.push("README.md");
}

const manifest = {
  name: "sottovoce",
  version,
  description: "A private customer-service chatbot that runs in the visitor's browser (WebAssembly): intents, entities, forms, replies.",
  license: "MIT OR Apache-2.0",
  repository: { type: "git", url: "https://example.invalid/sottovoce" },
  type: "module",
  main: "sottovoce.js",
  module: "sottovoce.js",
  types: "sottovoce.d.ts",
  exports: {
    ".": { types: "./sottovoce.d.ts", default: "./sottovoce.js" },
    "./full": { types: "./sottovoce_full.d.ts", default: "./sottovoce_full.js" },
    "./catalog": { types: "./sottovoce_catalog.d.ts", default: "./sottovoce_catalog.js" },
    "./encoder": { types: "./sottovoce_encoder.d.ts", default: "./sottovoce_encoder.js" },
    "./global": { types: "./global.d.ts" },
    // The wasm files themselves, for bundlers that do not follow the glue's
    // `new URL("<name>_bg.wasm", import.meta.url)` (esbuild: import one with the `file` loader
    // and pass its URL to `init`); Vite and webpack 5 copy them without help.
    "./sottovoce_bg.wasm": "./sottovoce_bg.wasm",
    "./sottovoce_full_bg.wasm": "./sottovoce_full_bg.wasm",
    "./sottovoce_catalog_bg.wasm": "./sottovoce_catalog_bg.wasm",
    "./sottovoce_encoder_bg.wasm": "./sottovoce_encoder_bg.wasm",
    "./package.json": "./package.json",
  },
  files,
  // Importing a module runs nothing (the wasm starts in `init`), so unused exports can go.
  sideEffects: false,
  keywords: ["chatbot", "customer-service", "webassembly", "nlu", "privacy"],
};
writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");

// Minify the wasm-bindgen glue in place (a second run is harmless). Only
// whitespace, comments and local names go: exports, `import.meta.url` and the wasm imports stay.
let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  fail("esbuild is missing; run `npm ci` (scripts/setup.sh does)");
}
for (const e of modules) {
  const glue = join(pkg, `${e}.js`);
  const minified = esbuild.transformSync(readFileSync(glue, "utf8"), { minify: true, format: "esm", target: "es2020", charset: "utf8" }).code;
  const main = { sottovoce_catalog: "Catalog", sottovoce_encoder: "Encoder" }[e] ?? "Chat";
  if (!minified.includes("import.meta.url") || !minified.includes(`${e}_bg.wasm`) || !new RegExp(`export\\s*(\\{[^}]*\\b${main}\\b|class ${main}\\b)`).test(minified)) {
    fail(`the minified ${e}.js lost the ${main} export or its wasm URL`);
  }
  writeFileSync(glue, minified);
}

const sizes = {};
for (const f of [...modules.flatMap((e) => [`${e}_bg.wasm`, `${e}.js`]), "vectors-minilm-l6-d64.svvec"]) {
  const bytes = readFileSync(join(pkg, f));
  const gz = await servedGzip(bytes);
  writeFileSync(join(pkg, `${f}.gz`), gz);
  sizes[f] = { raw: bytes.length, gzip: gz.length };
}
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`package-pkg: wrote ${join(pkg, "package.json")} (sottovoce ${version})`);
for (const [f, s] of Object.entries(sizes)) console.log(`package-pkg: ${f}: ${kb(s.raw)} raw, ${kb(s.gzip)} gzip`);
// The script-tag widget, minified for production pages: www/sottovoce.min.js beside its
// readable source (not committed; same behaviour, checked by tests/e2e/loading.test.mjs).
// Then what a page with the widget downloads for a compiled model, the model aside: the runtime
// wasm, its glue and the minified widget (issue 3's budget is 250 KB gzip).
const widget = join(root, "www", "sottovoce.js");
if (existsSync(widget)) {
  const source = readFileSync(widget, "utf8");
  const min = esbuild.transformSync(source, { minify: true, target: "es2020", charset: "utf8" }).code;
  if (!min.includes("document.currentScript") || !min.includes("sottovoce_full.js")) fail("the minified widget lost its loader");
  const banner = "/* sottovoce widget (MIT OR Apache-2.0), minified from sottovoce.js by scripts/package-pkg.mjs */\n";
  writeFileSync(join(root, "www", "sottovoce.min.js"), banner + min);
  // Its gzip sibling, which `sottovoce serve` sends as it sends pkg/'s.
  const minGz = await servedGzip(banner + min);
  writeFileSync(join(root, "www", "sottovoce.min.js.gz"), minGz);
  const w = minGz.length;
  const total = sizes["sottovoce_bg.wasm"].gzip + sizes["sottovoce.js"].gzip + w;
  console.log(`package-pkg: wrote www/sottovoce.min.js: ${(w / 1000).toFixed(1)} KB gzip ` +
    `(the source ${((await servedGzip(source)).length / 1000).toFixed(1)} KB)`);
  console.log(`package-pkg: widget with a compiled model: ${(total / 1000).toFixed(1)} KB gzip ` +
    "(runtime wasm + glue + www/sottovoce.min.js)");
}
