// Turns wasm-pack's output in pkg/ into the npm package `sottovoce`: writes package.json (name,
// version from the binding crate, entry points, TypeScript types, the files list), checks that the
// types are really there, minifies the JavaScript glue with esbuild (the types stay in
// sottovoce.d.ts; a third of the gzip size, and the page downloads it on every first visit), writes gzip siblings (`*.gz`, not part of the npm package) that
// `sottovoce serve` sends instead of compressing on every request, and prints the bundle sizes.
//
// Usage: node scripts/package-pkg.mjs [pkg-dir]     (run by `make pkg` after wasm-opt)
import { readFileSync, writeFileSync, existsSync, copyFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
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

const files = ["sottovoce.js", "sottovoce_bg.wasm", "sottovoce.d.ts", "sottovoce_bg.wasm.d.ts"];
for (const f of files) {
  if (!existsSync(join(pkg, f))) fail(`${join(pkg, f)} is missing; run wasm-pack first (make pkg)`);
}
const types = readFileSync(join(pkg, "sottovoce.d.ts"), "utf8");
for (const needle of ["export class Chat", "export interface ChatOptions", "export interface Turn", "send(text: string, now: number): Turn"]) {
  if (!types.includes(needle)) fail(`sottovoce.d.ts lacks \`${needle}\`: the TypeScript types are incomplete`);
}
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
    "./sottovoce_bg.wasm": "./sottovoce_bg.wasm",
    "./package.json": "./package.json",
  },
  files,
  sideEffects: ["./snippets/*"],
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
const glue = join(pkg, "sottovoce.js");
const minified = esbuild.transformSync(readFileSync(glue, "utf8"), { minify: true, format: "esm", target: "es2020", charset: "utf8" }).code;
if (!minified.includes("import.meta.url") || !/export\s*(\{[^}]*\bChat\b|class Chat\b)/.test(minified)) {
  fail("the minified sottovoce.js lost the Chat export or its wasm URL");
}
writeFileSync(glue, minified);

const sizes = {};
for (const f of ["sottovoce_bg.wasm", "sottovoce.js"]) {
  const bytes = readFileSync(join(pkg, f));
  const gz = gzipSync(bytes, { level: 9 });
  writeFileSync(join(pkg, `${f}.gz`), gz);
  sizes[f] = { raw: bytes.length, gzip: gz.length };
}
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`package-pkg: wrote ${join(pkg, "package.json")} (sottovoce ${version})`);
for (const [f, s] of Object.entries(sizes)) console.log(`package-pkg: ${f}: ${kb(s.raw)} raw, ${kb(s.gzip)} gzip`);
