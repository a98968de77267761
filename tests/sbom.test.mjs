// The CycloneDX SBOMs written by scripts/sbom.sh (`make sbom`, part of `make test`) under
// target/sbom/: each is CycloneDX JSON naming what it describes, lists the crates it must
// (the server: axum, sqlx, tokio, argon2 and the core; the npm package: wasm-bindgen, js-sys and
// the core) with a version, a purl and a licence each, and none that cannot be in it (no
// server crate in the browser's package).
//
// Run: make sbom (or bash scripts/sbom.sh && node --test tests/sbom.test.mjs)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (name) => JSON.parse(readFileSync(join(ROOT, "target/sbom", name), "utf8"));

const cases = [
  { file: "sottovoce-server.cdx.json", subject: "sottovoce-server", must: ["axum", "sqlx", "tokio", "argon2", "sottovoce"], never: ["wasm-bindgen", "js-sys"] },
  { file: "npm-sottovoce.cdx.json", subject: "sottovoce-wasm", must: ["wasm-bindgen", "js-sys", "sottovoce", "fluent-bundle"], never: ["axum", "sqlx", "tokio"] },
  { file: "npm-sottovoce-catalog.cdx.json", subject: "sottovoce-catalog-wasm", must: ["wasm-bindgen", "sottovoce"], never: ["axum", "sqlx", "tokio"] },
];

for (const { file, subject, must, never } of cases) {
  test(`${file} describes ${subject} and lists ${must.join(", ")}`, () => {
    const bom = read(file);
    assert.equal(bom.bomFormat, "CycloneDX");
    assert.equal(bom.metadata.component.name, subject);
    const names = new Set(bom.components.map((c) => c.name));
    for (const name of must) assert.ok(names.has(name), `${file} lists ${name}`);
    for (const name of never) assert.ok(!names.has(name), `${file} must not list ${name}`);
    for (const c of bom.components) {
      assert.ok(c.version && c.purl?.startsWith("pkg:cargo/"), `${c.name}: version and purl`);
      assert.ok(c.licenses?.length, `${c.name}: licence`);
    }
  });
}
