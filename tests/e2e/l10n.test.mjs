// The widget's own words (the `UI` tables in www/sottovoce.js): every locale table has every key
// of the English one and nothing else, non-empty, with the same "{0}" placeholders; `name` is the
// language's own name. No browser needed: the tables are a plain object literal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { ROOT } from "./support.mjs";

const source = readFileSync(join(ROOT, "www/sottovoce.js"), "utf8");
const literal = /\n\s*var UI = (\{[\s\S]*?\n\s*\}); \/\/ end of UI\n/.exec(source);
assert.ok(literal, "www/sottovoce.js has `var UI = {...}; // end of UI`");
const UI = runInNewContext(`(${literal[1]})`);

// The demo's locales (issue 19) and their names in the language menu.
const ENDONYMS = { en: "English", es: "Español", fr: "Français", de: "Deutsch", "pt-BR": "Português (Brasil)", ar: "العربية" };

test("a table for every demo locale, named by its endonym", () => {
  assert.deepEqual(Object.keys(UI).sort(), Object.keys(ENDONYMS).sort());
  for (const [code, name] of Object.entries(ENDONYMS)) assert.equal(UI[code].name, name, code);
});

test("every table has exactly the English keys, as non-empty strings with the same placeholders", () => {
  const keys = Object.keys(UI.en).sort();
  const holes = (s) => (s.match(/\{\d\}/g) ?? []).sort().join();
  for (const [code, table] of Object.entries(UI)) {
    assert.deepEqual(Object.keys(table).sort(), keys, `${code}: missing or extra keys`);
    for (const key of keys) {
      assert.equal(typeof table[key], "string", `${code}.${key}`);
      assert.ok(table[key].trim(), `${code}.${key} is empty`);
      assert.equal(holes(table[key]), holes(UI.en[key]), `${code}.${key}: placeholders differ from English`);
    }
  }
});

test("the translations are translations: no table but English repeats most English strings", () => {
  const keys = Object.keys(UI.en);
  for (const [code, table] of Object.entries(UI)) {
    if (code === "en") continue;
    const same = keys.filter((k) => table[k] === UI.en[k]);
    // "Chat", "Message", "Conversation"... may be spelled alike; whole tables copied may not.
    assert.ok(same.length <= 4, `${code} repeats English for: ${same.join(", ")}`);
  }
});
