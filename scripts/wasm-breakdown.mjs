// Where the bytes of the runtime wasm go, by component: twiggy's per-item sizes (shallow, so
// every byte is counted once) grouped by the crate or core module each function's name starts
// with. Run by `make pkg` on a copy of the runtime wasm optimised with the same wasm-opt flags
// plus `-g` (names kept; the shipped file has none, so its size differs by the name section).
//
// A monomorphised generic is counted where its name starts: `<sottovoce::state::X as
// serde::Deserialize>::deserialize` is the core's `state`, the code serde generates for it.
//
// Usage: node scripts/wasm-breakdown.mjs FILE.wasm [OUT.json]
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

const [file, out] = process.argv.slice(2);
if (!file) {
  console.error("usage: node scripts/wasm-breakdown.mjs FILE.wasm [OUT.json]");
  process.exit(2);
}

let json;
try {
  json = execFileSync("twiggy", ["top", "--format", "json", "-n", "1000000", file], { encoding: "utf8", maxBuffer: 1 << 28 });
} catch (e) {
  console.error(`wasm-breakdown: twiggy failed on ${file}: ${e.message} (scripts/setup.sh installs it)`);
  process.exit(1);
}
const items = JSON.parse(json);

// The first of these patterns (by position in the name) names the component.
// Crate paths may carry a disambiguator: `core[c5930c85a12de822]::fmt`.
const c = (crates) => new RegExp(`\\b(?:${crates})(?:\\[[0-9a-f]+\\])?::`);
const components = [
  [c("sottovoce_wasm"), "binding (sottovoce_wasm)"],
  [/\bsottovoce(?:\[[0-9a-f]+\])?::([a-z_]+)/, (m) => `core: ${m[1]}`],
  [c("fluent_bundle|fluent_syntax|intl_pluralrules|intl_memoizer|unic_langid\\w*|fluent_langneg|type_map|self_cell"), "fluent-bundle and its locale crates"],
  [c("serde_json"), "serde_json"],
  [c("postcard"), "postcard"],
  [c("serde|serde_core"), "serde (generic)"],
  [c("regex_lite"), "regex-lite"],
  [c("wasm_bindgen|js_sys|web_sys|console_error_panic_hook"), "wasm-bindgen, js-sys, web-sys"],
  [/ multivalue shim$|^__externref|^__wbindgen/, "wasm-bindgen, js-sys, web-sys"],
  [c("zmij|itoa|ryu"), "serde_json"],
  [c("dlmalloc"), "allocator"],
  [/\b(?:core|alloc|std)(?:\[[0-9a-f]+\])?::fmt::/, "std: fmt"],
  [c("core|alloc|std|hashbrown|__rustc"), "std: other"],
  [/^<(?:str|char|u\d+|i\d+|f\d+|usize|isize)>::/, "std: other"],
];
const totals = new Map();
let all = 0;
let names = 0;
const unknown = [];
for (const item of items.items ?? items) {
  const name = item.name ?? "";
  const size = item.shallow_size ?? 0;
  // The name section exists only in this analysis copy; the shipped file has none.
  if (/names" subsection|^"?name"? section/.test(name)) {
    names += size;
    continue;
  }
  all += size;
  let best = null;
  for (const [re, label] of components) {
    const m = re.exec(name);
    if (m && (best === null || m.index < best.index)) best = { index: m.index, label: typeof label === "function" ? label(m) : label };
  }
  let key = best?.label;
  if (!key) {
    key = /^data segment/.test(name) ? "data segments (strings, tables)" : /section|headers|^type\[|^import|^export|^elem|^global|^table/.test(name) ? "wasm structure (types, imports, tables)" : "unattributed (closures, shims, merged functions)";
    if (key.startsWith("unattributed")) unknown.push([size, name]);
  }
  totals.set(key, (totals.get(key) ?? 0) + size);
}
const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]);
console.log(`wasm-breakdown: ${file}: ${(all / 1024).toFixed(1)} KiB without its ${(names / 1024).toFixed(1)} KiB name section, by component (twiggy shallow sizes, before gzip):`);
for (const [k, v] of rows) {
  console.log(`  ${k.padEnd(40)} ${(v / 1024).toFixed(1).padStart(7)} KiB ${((100 * v) / all).toFixed(1).padStart(5)} %`);
}
if (process.env.WASM_BREAKDOWN_UNATTRIBUTED) {
  unknown.sort((a, b) => b[0] - a[0]);
  for (const [size, name] of unknown.slice(0, 40)) console.log(`    ${size} ${name}`);
}
if (out) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ file, total_bytes: all, components: Object.fromEntries(rows) }, null, 2) + "\n");
}
