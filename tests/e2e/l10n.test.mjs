// The widget's own words: English in www/sottovoce.js (`var UI`), every other language in
// www/l10n/<code>.json. Every table has every English key and nothing else, non-empty, with the
// same "{0}" placeholders, and the language menu's names (`var NAMES`) cover exactly these
// tables. No browser needed: the English table and the names are plain object literals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { ROOT } from "./support.mjs";

const source = readFileSync(join(ROOT, "www/sottovoce.js"), "utf8");
function literal(name, end) {
  const m = new RegExp(`\\n\\s*var ${name} = (\\{[\\s\\S]*?\\})${end}`).exec(source);
  assert.ok(m, `www/sottovoce.js defines \`var ${name} = {...}\``);
  return JSON.parse(JSON.stringify(runInNewContext(`(${m[1]})`))); // plain objects of this realm
}
const english = literal("UI", "; // end of UI\\n").en;
const NAMES = literal("NAMES", ";\\n");
const dir = join(ROOT, "www/l10n");
const tables = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith(".json"))
  .map((f) => [f.slice(0, -".json".length), JSON.parse(readFileSync(join(dir, f), "utf8"))]));

// The demo's locales (issue 19) and their names in the language menu.
const ENDONYMS = { en: "English", es: "Español", fr: "Français", de: "Deutsch", "pt-BR": "Português (Brasil)", ar: "العربية" };

test("words for every demo locale, each named by its endonym", () => {
  assert.deepEqual(NAMES, ENDONYMS);
  assert.deepEqual(["en", ...Object.keys(tables)].sort(), Object.keys(ENDONYMS).sort());
});

test("every table has exactly the English keys, as non-empty strings with the same placeholders", () => {
  const keys = Object.keys(english).sort();
  const holes = (s) => (s.match(/\{\d\}/g) ?? []).sort().join();
  for (const [code, table] of Object.entries({ en: english, ...tables })) {
    assert.deepEqual(Object.keys(table).sort(), keys, `${code}: missing or extra keys`);
    for (const key of keys) {
      assert.equal(typeof table[key], "string", `${code}.${key}`);
      assert.ok(table[key].trim(), `${code}.${key} is empty`);
      assert.equal(holes(table[key]), holes(english[key]), `${code}.${key}: placeholders differ from English`);
    }
  }
});

test("the translations are translations: no table repeats most English strings", () => {
  for (const [code, table] of Object.entries(tables)) {
    const same = Object.keys(english).filter((k) => table[k] === english[k]);
    // "Chat", "Message", "Conversation"... may be spelled alike; a copied table may not.
    assert.ok(same.length <= 4, `${code} repeats English for: ${same.join(", ")}`);
  }
});
