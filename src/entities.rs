//! Entity extraction: built-in extractors (number, ordinal, money, duration, date, time, email,
//! phone, url) and owner-defined entities: regular-expression patterns (regex-lite: linear time,
//! so a hostile message cannot stall the page) and lists of values with synonyms, matched with
//! typo tolerance.
//!
//! # Design
//!
//! Every extractor reads the same [`text::Text`] (the message as chars, with a byte → char map
//! for regex matches and a list of folded words) and pushes candidates. Offsets are Unicode
//! scalar values (chars), end exclusive, so JavaScript callers must convert from UTF-16 if they
//! highlight spans (the widget does not).
//!
//! Overlaps are resolved by one small, documented policy ([`EntityExtractor::extract_with`]):
//! - a built-in *token* entity (`email`, then `url`, then `phone`, each skipping spans an
//!   earlier one took) swallows every other built-in entity inside it: the `2` of
//!   `ana2@example.com` or the date-like digits of a URL are not what the visitor said;
//! - `number` is a bare quantity: a number inside a `money`, `duration`, `date`, `time` or
//!   `ordinal` span is not reported again (`$20`, `March 3`, `2 hours` give no `number`);
//! - the other built-ins may overlap each other: `in 2 weeks` is a `date` (resolved) and holds a
//!   `duration` (`P2W`); `tomorrow at 5pm` is a `date` and a `time` over the same span;
//! - a number never starts inside a word or a code: `CU-123456`, `A12`, `3XL` and `v2` yield no
//!   number, while `order 123456` does;
//! - owner-defined entities never suppress built-ins nor the other way round: an owner pattern
//!   for a bare 6-digit order number and the built-in `number` both report `123456`. The dialogue
//!   takes the entity a slot names, so both are harmless; pick by name, not by position.
//!
//! Locale matters for words (`twenty`, `veinte`, `vingt`, `zwanzig`, `vinte`, `عشرون`; months,
//! weekdays, relative days, units) and separators (`1,234.5` in English, `1.234,5` in Spanish,
//! French, German and Portuguese). Words are known for English, Spanish, French, German,
//! Portuguese and Arabic; an empty or other locale reads English and Spanish words (as before
//! the other four came). Digits are read in every locale: Eastern Arabic and Persian digits as
//! ASCII ones ([`crate::text::ascii_digit`]), and next to ideographs and kana, which do not glue
//! to them (`明天下午3点`, `3000円`: dates and times of that form are read too).

use serde::{Deserialize, Serialize};

use crate::definition::EntityDef;
use crate::text::Utterance;

/// Calendar arithmetic on day numbers (days since 1970-01-01), used to resolve dates.
pub mod civil;
mod datetime;
mod duration;
mod email;
mod lists;
mod money;
mod number;
mod ordinal;
mod pattern;
mod phone;
pub(crate) mod text;
mod url;
mod words;

pub use lists::list_key;
pub(crate) use lists::within_one;

/// An entity found in a message. Offsets are in Unicode scalar values (chars), end exclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Entity name (`email`, `number`, `order_number`…).
    pub entity: String,
    /// Normalised value, by entity:
    ///
    /// | entity     | value                                              | example               |
    /// |------------|----------------------------------------------------|-----------------------|
    /// | `number`   | digits, `.` decimal point, leading `-`             | `1234.5`              |
    /// | `ordinal`  | the position                                       | `3`                   |
    /// | `money`    | amount with two decimals and ISO 4217 code         | `20.00 USD`           |
    /// | `duration` | ISO 8601 duration                                  | `PT1H30M`, `P2W`      |
    /// | `date`     | ISO 8601 date, local to the visitor                | `2026-11-27`          |
    /// | `time`     | ISO 8601 local date and time                       | `2026-11-27T17:00`    |
    /// | `email`    | as typed, domain lower-cased                       | `Ana@example.com`     |
    /// | `phone`    | digits, `+` first when a country code was given    | `+34600123456`        |
    /// | `url`      | absolute http(s) URL, scheme and host lower-cased  | `https://shop.example/x` |
    /// | pattern    | the match or its `group`, upper-cased if asked     | `CU-123456`           |
    /// | list       | the matched entry's `value`                        | `refund`              |
    pub value: String,
    /// The text as it appeared.
    pub raw: String,
    /// Start offset in chars.
    pub start: usize,
    /// End offset in chars, exclusive.
    pub end: usize,
}

/// Built-in entity names, always available to slots (owner entities may not reuse them).
pub const BUILTIN_ENTITIES: &[&str] = &["date", "duration", "email", "money", "number", "ordinal", "phone", "time", "url"];

/// What an extraction may depend on besides the text: the visitor's locale and the reference
/// time that relative expressions ("tomorrow") are resolved against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtractContext<'a> {
    /// BCP 47 locale of the message (`en`, `es`, `es-MX`); empty = try every supported language.
    pub locale: &'a str,
    /// Reference time in milliseconds since the Unix epoch (UTC). `None` = unknown: extractors
    /// whose value depends on "now" (relative dates and times) report nothing.
    pub now_ms: Option<u64>,
    /// The visitor's offset from UTC in minutes (`+60` for Madrid in winter, `-300` for New York),
    /// so "tomorrow" is the visitor's tomorrow. JavaScript's `getTimezoneOffset()` has the
    /// opposite sign.
    pub utc_offset_min: i32,
    /// The BCP 47 locale the message itself seems written in (empty: unknown): its language's
    /// words are read too, after `locale`'s, so "demain à 17h" in a conversation still in
    /// English is a date and a time. Separators and currencies stay `locale`'s.
    pub written: &'a str,
}

impl<'a> ExtractContext<'a> {
    /// A context with a locale and a reference time (UTC, offset 0).
    pub fn new(locale: &'a str, now_ms: u64) -> ExtractContext<'a> {
        ExtractContext { locale, now_ms: Some(now_ms), utc_offset_min: 0, written: "" }
    }

    /// The same context for a visitor `minutes` east of UTC (`-300` for New York in winter; in
    /// a browser, `-new Date().getTimezoneOffset()`).
    pub fn with_utc_offset(self, minutes: i32) -> ExtractContext<'a> {
        ExtractContext { utc_offset_min: minutes, ..self }
    }
}

pub(crate) use crate::text::Lang;

impl Lang {
    /// The languages to try for a locale: its own, or English and Spanish when unknown (an
    /// unknown locale kept its behaviour when the other languages came). English and Spanish
    /// keep their words beside their grammar; the others read the compact tables of [`words`].
    fn for_locale(locale: &str) -> &'static [Lang] {
        match Lang::of_locale(locale) {
            Some(Lang::En) => &[Lang::En],
            Some(Lang::Es) => &[Lang::Es],
            Some(Lang::Fr) => &[Lang::Fr],
            Some(Lang::De) => &[Lang::De],
            Some(Lang::Pt) => &[Lang::Pt],
            Some(Lang::Ar) => &[Lang::Ar],
            None => &[Lang::En, Lang::Es],
        }
    }
}

/// Whether a locale writes `1.234,5` (decimal comma) rather than `1,234.5`.
fn decimal_comma(locale: &str) -> bool {
    let mut parts = locale.split(['-', '_']);
    let lang = parts.next().unwrap_or("").to_ascii_lowercase();
    let region = parts.find(|p| p.len() == 2 || p.len() == 3).unwrap_or("").to_ascii_uppercase();
    match lang.as_str() {
        // Spanish-speaking countries that write a decimal point (CLDR).
        "es" => !matches!(region.as_str(), "MX" | "US" | "GT" | "HN" | "NI" | "SV" | "DO" | "PA" | "PR" | "PE" | "419"),
        "de" | "fr" | "it" | "pt" | "nl" | "ca" => true,
        _ => false,
    }
}

/// The upper-case region subtag of a locale (`es-MX` → `MX`), or empty.
fn region(locale: &str) -> String {
    locale.split(['-', '_']).skip(1).find(|p| p.len() == 2 || p.len() == 3 && p.chars().all(|c| c.is_ascii_digit())).unwrap_or("").to_ascii_uppercase()
}

/// Extracts built-in and owner-defined entities.
#[derive(Debug, Clone)]
pub struct EntityExtractor {
    patterns: Vec<pattern::Pattern>,
    lists: Vec<lists::List>,
}

impl EntityExtractor {
    /// Compiles the owner-defined entities.
    ///
    /// # Errors
    /// The first pattern that does not compile (validation reports all of them earlier).
    pub fn new(defs: &[EntityDef]) -> Result<EntityExtractor, regex_lite::Error> {
        let (mut patterns, mut lists) = (Vec::new(), Vec::new());
        for d in defs {
            match d {
                EntityDef::Pattern { name, pattern, group, uppercase, value } => {
                    patterns.push(pattern::Pattern::new(name, pattern, *group, *uppercase, value.clone())?)
                }
                EntityDef::List { name, values, fuzzy } => lists.push(lists::List::new(name, values, *fuzzy)),
            }
        }
        Ok(EntityExtractor { patterns, lists })
    }

    /// Every entity found in `text`, in order of start offset, with no locale (every language)
    /// and no reference time (relative dates are skipped). See [`EntityExtractor::extract_with`].
    pub fn extract(&self, text: &str) -> Vec<Entity> {
        self.extract_with(text, &ExtractContext::default())
    }

    /// Every entity found in `text` for a locale and reference time.
    ///
    /// Returns entities sorted by start offset, then longest first, then by name. Overlaps follow
    /// the policy in the [module docs](self): token entities swallow numbers inside them;
    /// owner-defined and built-in entities are reported independently.
    pub fn extract_with(&self, text: &str, ctx: &ExtractContext<'_>) -> Vec<Entity> {
        self.extract_utterance(&Utterance::analyze(text, ctx.locale), ctx)
    }

    /// As [`EntityExtractor::extract_with`], on a message already analysed: the extractors
    /// read its chars and words instead of splitting the text again.
    pub fn extract_utterance(&self, utterance: &Utterance<'_>, ctx: &ExtractContext<'_>) -> Vec<Entity> {
        self.extract_utterance_knowing(utterance, ctx, &|_| false)
    }

    /// As [`EntityExtractor::extract_utterance`], with `known` telling which message words
    /// (folded as the lists fold them: lower case, no accents) are real words of the bot's
    /// languages, such as the words of its training examples
    /// ([`crate::nlu::IntentClassifier::knows_word`]): a list's typo tolerance never reads one
    /// of them as a misspelling of a synonym ("Nummer" is not "summer", "trouve" not "troué").
    pub fn extract_utterance_knowing(
        &self,
        utterance: &Utterance<'_>,
        ctx: &ExtractContext<'_>,
        known: &dyn Fn(&str) -> bool,
    ) -> Vec<Entity> {
        let t = text::Text::new(utterance);
        let mut langs = Lang::for_locale(ctx.locale).to_vec();
        if let Some(written) = Lang::of_locale(ctx.written).filter(|l| !langs.contains(l)) {
            langs.push(written);
        }
        let langs = &langs[..];
        let comma = decimal_comma(ctx.locale);

        let mut tokens = Vec::new();
        email::find(&t, &mut tokens);
        url::find(&t, &mut tokens);
        phone::find(&t, &mut tokens);

        let nums = number::find(&t, langs, comma);
        let ordinals = ordinal::find(&t, langs);
        let mut values = Vec::new();
        for o in &ordinals {
            values.push(t.entity("ordinal", o.value.to_string(), o.start, o.end));
        }
        money::find(&t, &nums, &region(ctx.locale), langs, &mut values);
        duration::find(&t, &nums, langs, &mut values);
        datetime::find(&t, &nums, &ordinals, langs, ctx, &mut values);
        let overlaps = |a: &Entity, b: &Entity| a.start < b.end && b.start < a.end;
        values.retain(|v| !tokens.iter().any(|k| overlaps(v, k)));
        // A `number` is a bare quantity: the 20 of `$20` or the 3 of `March 3` is not one.
        // Spans are checked in start order with one moving cursor, so a long message of numbers
        // stays linear.
        let mut taken: Vec<(usize, usize)> = values.iter().chain(&tokens).map(|e| (e.start, e.end)).collect();
        taken.extend(ordinals.iter().map(|o| (o.start, o.end)));
        crate::sort::sort_by(&mut taken, Ord::cmp);
        let (mut k, mut reach) = (0, 0);
        for n in &nums {
            while k < taken.len() && taken[k].0 < n.end {
                reach = reach.max(taken[k].1);
                k += 1;
            }
            // Every span starting before the number's end has been seen; it overlaps when one of
            // them reaches past the number's start.
            if reach <= n.start {
                values.push(t.entity("number", n.value.clone(), n.start, n.end));
            }
        }

        let mut out = tokens;
        out.extend(values);
        for p in &self.patterns {
            p.find(&t, &mut out);
        }
        for l in &self.lists {
            l.find(&t, known, &mut out);
        }
        crate::sort::sort_by(&mut out, |a, b| {
            a.start.cmp(&b.start).then(b.end.cmp(&a.end)).then_with(|| a.entity.cmp(&b.entity))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, locale: &str) -> Vec<(String, String, String)> {
        let x = EntityExtractor::new(&[EntityDef::Pattern {
            name: "order_number".into(),
            pattern: r"(?i)\b(cu-\d{6})\b".into(),
            group: 1,
            uppercase: true,
            value: None,
        }])
        .unwrap();
        x.extract_with(text, &ExtractContext { locale, ..Default::default() })
            .into_iter()
            .map(|e| (e.entity, e.value, e.raw))
            .collect()
    }

    fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.into(), b.into(), c.into())
    }

    #[test]
    fn a_value_template_builds_the_value_from_the_groups() {
        let x = EntityExtractor::new(&[EntityDef::Pattern {
            name: "order_number".into(),
            pattern: r"(?i)\bCU[- ]?(\d{6})\b".into(),
            group: 0,
            uppercase: true,
            value: Some("cu-$1".into()),
        }])
        .unwrap();
        let found: Vec<(String, String)> = x
            .extract("it's cu 654321, or CU654321")
            .into_iter()
            .filter(|e| e.entity == "order_number")
            .map(|e| (e.value, e.raw))
            .collect();
        assert_eq!(found, [("CU-654321".into(), "cu 654321".into()), ("CU-654321".into(), "CU654321".into())]);
    }

    #[test]
    fn order_number_is_not_also_a_number() {
        assert_eq!(ex("order cu-123456 please", "en"), vec![t("order_number", "CU-123456", "cu-123456")]);
    }

    #[test]
    fn digits_inside_email_are_not_numbers() {
        assert_eq!(ex("ana2@Example.COM, 3 items", "en"), vec![
            t("email", "ana2@example.com", "ana2@Example.COM"),
            t("number", "3", "3")
        ]);
    }

    #[test]
    fn offsets_are_chars() {
        let x = EntityExtractor::new(&[]).unwrap();
        let e = x.extract_with("¿Señor, dos?", &ExtractContext { locale: "es", ..Default::default() });
        assert_eq!((e[0].start, e[0].end, e[0].value.as_str()), (8, 11, "2"));
    }

    #[test]
    fn locale_decides_separators() {
        assert_eq!(ex("1.234,5", "es")[0].1, "1234.5");
        assert_eq!(ex("1,234.5", "en")[0].1, "1234.5");
        assert_eq!(ex("1.500", "es-ES")[0].1, "1500");
        assert_eq!(ex("1.500", "es-MX")[0].1, "1.5");
    }
}
