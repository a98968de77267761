//! Accuracy of the demo store bot (`www/bots/store.json`) on held-out customer phrasings.
//!
//! Two held-out files (`tests/fixtures/nlu/store-heldout*.jsonl`, one `{"text","intent","locale"}`
//! per line), written apart from the training examples and in other words. The first set's
//! misses were read while the examples were improved; the `fresh` set was written after that
//! and has not been used to change anything, so it is the honest estimate. This test checks that
//! no line repeats a training example, trains the bot exactly as the widget does
//! ([`sottovoce::Bot::from_json`]), classifies every line with [`sottovoce::Bot::understand`] and
//! counts a line as right only when the intent the bot would act on (above its confidence
//! threshold) is the expected one; a fallback is a miss. It prints every miss and per-intent
//! accuracy, writes `bench-results/store-heldout.json` (all lines: `accuracy`, `accuracy_en`,
//! `accuracy_es`, `top1`, `locale_accuracy`, `n`, `n_en`, `n_es`, `threshold`; and the same for
//! each set under `sets`; `oos_rejected` and `n_oos` for the out-of-scope questions of
//! `store-oos.jsonl`, which are right when they get the fallback) and requires at least
//! [`MIN_ACCURACY`] on all lines, [`MIN_SET_ACCURACY`] on each set and [`MIN_OOS_REJECTED`] of
//! the out-of-scope questions answered with the fallback.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use sottovoce::OUT_OF_SCOPE_INTENT;

/// The accuracy the demo bot must reach on all held-out lines (intent acted on, all locales).
const MIN_ACCURACY: f64 = 0.85;
/// The accuracy each held-out set must reach on its own (the fresh set is small: 163 lines).
const MIN_SET_ACCURACY: f64 = 0.80;
/// Lines a set needs for [`MIN_SET_ACCURACY`] to apply to it alone.
const MIN_GATED_SET: usize = 50;

const STORE: &str = include_str!("../www/bots/store.json");
/// Out-of-scope questions (`"intent": "oos"`): right when the bot answers with the fallback.
const OUT_OF_SCOPE: &str = include_str!("fixtures/nlu/store-oos.jsonl");
/// Phrasings for tuning, apart from the held-out sets ([`dev_accuracy_by_threshold`]).
const DEV: &str = include_str!("fixtures/nlu/store-dev.jsonl");
/// Entities alone (`"intent": "oos"`): right when the bot acts on no intent.
const ENTITY_ALONE: &str = include_str!("fixtures/nlu/store-entity-alone.jsonl");
/// The share of out-of-scope questions that must get the fallback.
const MIN_OOS_REJECTED: f64 = 0.70;

/// The held-out sets: name and JSON Lines text.
const HELDOUT: &[(&str, &str)] = &[
    ("first", include_str!("fixtures/nlu/store-heldout.jsonl")),
    (
        "fresh",
        include_str!("fixtures/nlu/store-heldout-fresh.jsonl"),
    ),
    // One set per locale added in issue 19, each written by a native-level writer before the
    // locale's examples were tuned, and never changed to pass.
    ("fr", include_str!("fixtures/nlu/store-heldout-fr.jsonl")),
    ("de", include_str!("fixtures/nlu/store-heldout-de.jsonl")),
    ("pt-BR", include_str!("fixtures/nlu/store-heldout-pt-BR.jsonl")),
    ("ar", include_str!("fixtures/nlu/store-heldout-ar.jsonl")),
    // Group orders (`team_order`, the lead form of issue 20 item 3), written before its
    // examples; its misses were then read once, when the four smallest locales got more
    // examples (the newsletter and back-in-stock forms are button-only: no lines).
    ("forms", include_str!("fixtures/nlu/store-heldout-forms.jsonl")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    text: String,
    intent: String,
    locale: String,
    /// Which held-out set the line is from (not in the file).
    #[serde(skip)]
    set: &'static str,
}

/// A comparison key for "is this the same utterance": the classifier's own normalisation
/// (lowercase, accents and punctuation gone) with the words sorted ("No, gracias." and
/// "no gracias"; "stop, never mind" and "never mind, stop").
fn normalise(text: &str) -> String {
    let folded = sottovoce::nlu::normalize(text);
    let mut words: Vec<&str> = folded.split(' ').collect();
    words.sort_unstable();
    words.join(" ")
}

fn parse(set: &'static str, text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let mut case: Case = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("held-out set {set}, line {}: {e}", i + 1));
        case.set = set;
        cases.push(case);
    }
    cases
}

fn cases() -> Vec<Case> {
    HELDOUT
        .iter()
        .flat_map(|&(set, text)| parse(set, text))
        .collect()
}

fn definition() -> sottovoce::BotDefinition {
    match sottovoce::BotDefinition::from_json(STORE) {
        Ok(def) => def,
        Err(e) => panic!("www/bots/store.json: {e}"),
    }
}

/// An intent without examples, reached only by the buttons that name it (the newsletter
/// sign-up and the back-in-stock alert): the classifier never predicts it, so it has neither
/// examples to count nor held-out lines.
fn button_only(examples: &BTreeMap<String, Vec<String>>) -> bool {
    examples.values().all(Vec::is_empty)
}

/// The demo bot is what the issue asks for: enough intents, enough varied examples per locale,
/// a title and a reply (or action/form) for each, every message in every locale.
#[test]
fn store_definition_is_complete() {
    let def = definition();
    assert!(
        def.intents.len() >= 35,
        "only {} intents",
        def.intents.len()
    );
    let mut problems = Vec::new();
    for intent in def.intents.iter().filter(|i| !button_only(&i.examples)) {
        // Issue 19: at least 20 examples per intent in every demo locale (English has more).
        for (locale, min) in [("en", 22), ("es", 20), ("fr", 20), ("de", 20), ("pt-BR", 20), ("ar", 20)] {
            let examples = intent
                .examples
                .get(locale)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if examples.len() < min {
                problems.push(format!(
                    "intent {}: {} {locale} examples, want {min}",
                    intent.name,
                    examples.len()
                ));
            }
            // The other locales' examples keep accented and unaccented spellings on purpose
            // (visitors type both), which fold to the same text.
            let distinct: BTreeSet<String> = examples.iter().map(|e| normalise(e)).collect();
            if matches!(locale, "en" | "es") && distinct.len() != examples.len() {
                problems.push(format!("intent {}: repeated {locale} example", intent.name));
            }
        }
        // Small talk has no title, so "did you mean" buttons never offer "Yes" or "Say hello";
        // nor has out_of_scope, which is never offered.
        const SMALL_TALK: &[&str] = &["affirm", "deny", "greet", "thanks", "goodbye", "tell_name", OUT_OF_SCOPE_INTENT];
        if intent.title.is_none() != SMALL_TALK.contains(&intent.name.as_str()) {
            problems.push(format!("intent {}: a title only and always for intents that are not small talk", intent.name));
        }
    }
    let en = &def.messages["en"];
    for (locale, messages) in &def.messages {
        for id in en.keys() {
            if !messages.contains_key(id) {
                problems.push(format!("messages.{locale}: missing `{id}`"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "store.json:\n  {}",
        problems.join("\n  ")
    );
}

/// The owner-defined patterns find what the store's examples and form rely on, and nothing more.
#[test]
fn store_entity_patterns() {
    let def = definition();
    let pattern = |name: &str| {
        let e = def
            .entities
            .iter()
            .find(|e| e.name() == name)
            .unwrap_or_else(|| panic!("no entity {name}"));
        let sottovoce::definition::EntityDef::Pattern { pattern, group, .. } = e else {
            panic!("{name} is not a pattern")
        };
        (
            regex_lite::Regex::new(pattern).expect("pattern compiles"),
            *group,
        )
    };
    let capture = |(re, group): &(regex_lite::Regex, usize), text: &str| {
        re.captures(text)
            .and_then(|c| c.get(*group))
            .map(|m| m.as_str().to_owned())
    };
    let order = pattern("order_number");
    for (text, want) in [
        ("my order is CU-123456", Some("CU-123456")),
        ("cu482913", Some("cu482913")),
        ("pedido CU-559201, por favor", Some("CU-559201")),
        ("CU-12345", None),
        ("order 123456", None),
        ("CU-1234567", None),
    ] {
        assert_eq!(
            capture(&order, text).as_deref(),
            want,
            "order_number in {text:?}"
        );
    }
    let name = pattern("person_name");
    let tell_name = &def.intents[def.intent_index("tell_name").expect("tell_name intent")];
    for examples in tell_name.examples.values() {
        for e in examples {
            assert!(
                capture(&name, e).is_some(),
                "person_name finds no name in tell_name example {e:?}"
            );
        }
    }
    for (text, want) in [
        ("my name is Sarah", Some("Sarah")),
        ("hi, I'm Daniel", Some("Daniel")),
        ("me llamo Sofía García", Some("Sofía")),
        ("soy Ángela", Some("Ángela")),
        ("I'm looking for a rain jacket", None),
        ("I am very upset with my order", None),
        ("soy de México", None),
        ("this is ridiculous", None),
    ] {
        assert_eq!(
            capture(&name, text).as_deref(),
            want,
            "person_name in {text:?}"
        );
    }
}

/// The held-out sets are well formed, cover every intent, and share no line with the examples.
#[test]
fn heldout_is_independent_of_training() {
    let def = definition();
    let cases = cases();
    assert!(cases.len() >= 200, "only {} held-out lines", cases.len());
    let training: BTreeMap<String, &str> = def
        .intents
        .iter()
        .flat_map(|i| {
            i.examples
                .values()
                .flatten()
                .map(move |e| (normalise(e), i.name.as_str()))
        })
        .collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut covered = BTreeSet::new();
    let oos = parse("out-of-scope", OUT_OF_SCOPE);
    for c in cases.iter().chain(&oos) {
        let line = format!("{} set, {:?}", c.set, c.text);
        let want_oos = c.set == "out-of-scope";
        if want_oos != (c.intent == "oos") {
            problems.push(format!(
                "{line}: intent \"oos\" belongs in store-oos.jsonl only"
            ));
        } else if !want_oos && def.intent_index(&c.intent).is_none() {
            problems.push(format!("{line}: no intent named {:?}", c.intent));
        }
        if !def.locales.contains(&c.locale) {
            problems.push(format!(
                "{line}: locale {:?} is not one of the bot's",
                c.locale
            ));
        }
        if let Some(intent) = training.get(&normalise(&c.text)) {
            problems.push(format!(
                "{line}: the same words as a training example of {intent}"
            ));
        }
        if !seen.insert(normalise(&c.text)) {
            problems.push(format!("{line}: repeated"));
        }
        covered.insert((c.intent.as_str(), c.locale.as_str()));
    }
    for intent in def.intents.iter().filter(|i| !button_only(&i.examples)) {
        // The reserved out_of_scope intent is held out as the off-topic set (intent "oos").
        let name = if intent.name == OUT_OF_SCOPE_INTENT { "oos" } else { intent.name.as_str() };
        for locale in &def.locales {
            if !covered.contains(&(name, locale.as_str())) {
                problems.push(format!("intent {} has no held-out line in {locale}", intent.name));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "store-heldout*.jsonl:\n  {}",
        problems.join("\n  ")
    );
}

#[derive(Default)]
struct Tally {
    right: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.right += usize::from(ok);
    }

    fn rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.right as f64 / self.total as f64
        }
    }
}

/// Accuracy of one group of held-out lines, overall and per locale.
#[derive(Default)]
struct Score {
    all: Tally,
    by_locale: BTreeMap<String, Tally>,
    top1: Tally,
    /// Top-1 per locale: the figure `scripts/baseline-tfidf-svc.py` gives the peer.
    top1_by_locale: BTreeMap<String, Tally>,
    locale: Tally,
}

impl Score {
    fn json(&self) -> serde_json::Value {
        let mut out = serde_json::json!({
            "accuracy": self.all.rate(),
            "top1": self.top1.rate(),
            "locale_accuracy": self.locale.rate(),
            "n": self.all.total,
        });
        for (locale, t) in &self.by_locale {
            out[format!("accuracy_{locale}")] = serde_json::json!(t.rate());
            out[format!("n_{locale}")] = serde_json::json!(t.total);
        }
        for (locale, t) in &self.top1_by_locale {
            out[format!("top1_{locale}")] = serde_json::json!(t.rate());
        }
        out
    }

    fn line(&self, name: &str) -> String {
        let locales: Vec<String> = self
            .by_locale
            .iter()
            .map(|(l, t)| format!("{l} {:.3} ({}/{})", t.rate(), t.right, t.total))
            .collect();
        let top1: Vec<String> = self.top1_by_locale.iter().map(|(l, t)| format!("{l} {:.3}", t.rate())).collect();
        format!(
            "{name}: all {:.3} ({}/{}), {}; top-1 ignoring the threshold {:.3} ({}); locale {:.3}",
            self.all.rate(),
            self.all.right,
            self.all.total,
            locales.join(", "),
            self.top1.rate(),
            top1.join(", "),
            self.locale.rate(),
        )
    }
}

/// The trained bot recognises held-out customer phrasings.
#[test]
fn heldout_accuracy() {
    let bot = match sottovoce::Bot::from_json(STORE) {
        Ok(bot) => bot,
        Err(e) => panic!("www/bots/store.json: {e}"),
    };
    let cases = cases();
    let mut total = Score::default();
    let mut sets: BTreeMap<&str, Score> = BTreeMap::new();
    let mut by_intent: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    for c in &cases {
        let nlu = bot.understand(&c.text);
        let acted = nlu.intent.as_deref();
        let ok = acted == Some(c.intent.as_str());
        let top1 = nlu.ranking.first().map(|(i, _)| i.as_str()) == Some(c.intent.as_str());
        let locale_ok = nlu.locale == c.locale;
        for score in [&mut total, sets.entry(c.set).or_default()] {
            score.all.add(ok);
            score.by_locale.entry(c.locale.clone()).or_default().add(ok);
            score.top1.add(top1);
            score.top1_by_locale.entry(c.locale.clone()).or_default().add(top1);
            score.locale.add(locale_ok);
        }
        by_intent.entry(&c.intent).or_default().add(ok);
        if !ok {
            let ranking: Vec<String> = nlu
                .ranking
                .iter()
                .take(3)
                .map(|(i, p)| format!("{i} {p:.2}"))
                .collect();
            misses.push(format!(
                "[{} {}] {:?}: want {}, got {} ({})",
                c.set,
                c.locale,
                c.text,
                c.intent,
                acted.unwrap_or("fallback"),
                ranking.join(", ")
            ));
        }
    }
    let mut rejected = Tally::default();
    let mut rejected_by_locale: BTreeMap<String, Tally> = BTreeMap::new();
    for c in parse("out-of-scope", OUT_OF_SCOPE) {
        let nlu = bot.understand(&c.text);
        rejected.add(nlu.intent.is_none());
        rejected_by_locale.entry(c.locale.clone()).or_default().add(nlu.intent.is_none());
        if let Some(intent) = nlu.intent {
            misses.push(format!(
                "[out-of-scope {}] {:?}: want the fallback, got {intent} {:.2}",
                c.locale, c.text, nlu.confidence
            ));
        }
    }
    println!("misses ({}):", misses.len());
    for m in &misses {
        println!("  {m}");
    }
    println!("intents with misses:");
    for (intent, t) in &by_intent {
        if t.right < t.total {
            println!("  {intent:<24} {}/{}", t.right, t.total);
        }
    }
    println!("store held-out accuracy, threshold {:.2}:", bot.threshold());
    println!("  {}", total.line("all sets"));
    for (name, score) in &sets {
        println!("  {}", score.line(&format!("{name} set")));
    }
    println!(
        "  out-of-scope questions answered with the fallback: {:.3} ({}/{})",
        rejected.rate(),
        rejected.right,
        rejected.total
    );
    let per_locale: Vec<String> =
        rejected_by_locale.iter().map(|(l, t)| format!("{l} {:.3} ({}/{})", t.rate(), t.right, t.total)).collect();
    println!("    per locale: {}", per_locale.join(", "));
    let mut results = total.json();
    // f32 → f64 through its shortest decimal form: 0.4, not 0.4000000059604645.
    let threshold: f64 = bot
        .threshold()
        .to_string()
        .parse()
        .expect("a float prints as a float");
    results["threshold"] = serde_json::json!(threshold);
    results["oos_rejected"] = serde_json::json!(rejected.rate());
    results["n_oos"] = serde_json::json!(rejected.total);
    for (locale, t) in &rejected_by_locale {
        results[format!("oos_rejected_{locale}")] = serde_json::json!(t.rate());
    }
    results["sets"] = sets
        .iter()
        .map(|(name, score)| (name.to_string(), score.json()))
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results");
    std::fs::create_dir_all(&dir).expect("create bench-results/");
    std::fs::write(dir.join("store-heldout.json"), format!("{results:#}\n"))
        .expect("write bench-results/store-heldout.json");
    assert!(
        total.all.rate() >= MIN_ACCURACY,
        "held-out accuracy {:.3} is below {MIN_ACCURACY}",
        total.all.rate()
    );
    assert!(
        rejected.rate() >= MIN_OOS_REJECTED,
        "only {:.3} of out-of-scope questions get the fallback, want {MIN_OOS_REJECTED}",
        rejected.rate()
    );
    // A set too small for its rate to mean much on its own (the 13 group-order lines: ±27
    // points at 95 %) counts in the total and is reported, not gated.
    for (name, score) in sets.iter().filter(|(_, s)| s.all.total >= MIN_GATED_SET) {
        assert!(
            score.all.rate() >= MIN_SET_ACCURACY,
            "accuracy on the {name} held-out set {:.3} is below {MIN_SET_ACCURACY}",
            score.all.rate()
        );
    }
}

/// An entity alone never decides an intent: a city, a country or an order number on its own
/// (`tests/fixtures/nlu/store-entity-alone.jsonl`, one per line with `"intent": "oos"`) gets no
/// intent from [`sottovoce::Bot::understand`], whatever the examples that name it are about.
#[test]
fn an_entity_alone_decides_no_intent() {
    let bot = match sottovoce::Bot::from_json(STORE) {
        Ok(bot) => bot,
        Err(e) => panic!("www/bots/store.json: {e}"),
    };
    let decided: Vec<String> = parse("entity-alone", ENTITY_ALONE)
        .iter()
        .filter_map(|c| {
            let nlu = bot.understand(&c.text);
            nlu.intent.map(|i| format!("[{}] {:?}: got {i} {:.2}", c.locale, c.text, nlu.confidence))
        })
        .collect();
    assert!(decided.is_empty(), "entities alone decided intents:\n  {}", decided.join("\n  "));
}

/// The demo bot goes through its model file, whole and in locale parts, and reads back the
/// same definition: the widget loads the model, the stories train from the JSON (a field the
/// model file's postcard could not carry, such as one skipped when false, broke only the first).
#[test]
fn store_model_file_reads_back_the_definition() {
    let bot = sottovoce::Bot::from_json(STORE).expect("www/bots/store.json trains");
    let whole = sottovoce::Bot::from_model(&bot.to_model()).expect("the store model loads back");
    // The model file carries the definition without its examples (the classifiers learned
    // them), but those made of entities alone, as plain text: they decide their intent only as
    // written (`Bot::to_model`).
    let mut expected = bot.definition().clone();
    for (intent, loaded) in expected.intents.iter_mut().zip(&whole.definition().intents) {
        for (locale, kept) in &loaded.examples {
            for e in kept {
                let written = intent.examples[locale].iter().map(|x| sottovoce::slots::parse_markup(x).map_or_else(|_| x.clone(), |a| a.text));
                assert!(written.clone().any(|x| x == *e), "{e:?} is no example of {} in {locale}", intent.name);
                assert_eq!(whole.understand(e).intent.as_deref(), Some(intent.name.as_str()), "{e:?} ({locale})");
            }
        }
        intent.examples = loaded.examples.clone();
    }
    assert_eq!(whole.definition(), &expected);
    let (common, parts) = bot.to_model_parts().expect("the store model splits");
    let mut split = sottovoce::Bot::from_model(&common).expect("the common file loads");
    for (locale, part) in &parts {
        split.add_locale(part).unwrap_or_else(|e| panic!("part {locale}: {e}"));
    }
    assert_eq!(split.understand("I can't find my order number").intent.as_deref(), Some("no_order_number"));
}

/// The dev set (`tests/fixtures/nlu/store-dev.jsonl`): phrasings written for tuning the
/// examples and the threshold, apart from the held-out sets, which are only measured. Prints
/// the share acted on correctly per locale at thresholds 0.3 to 0.7 (its out-of-scope rows,
/// `"intent": "oos"`, are right when nothing is acted on) (a choice is made here,
/// never on the held-out lines) and requires the bot's own threshold to act correctly on at
/// least [`MIN_SET_ACCURACY`] of it.
#[test]
fn dev_accuracy_by_threshold() {
    let bot = match sottovoce::Bot::from_json(STORE) {
        Ok(bot) => bot,
        Err(e) => panic!("www/bots/store.json: {e}"),
    };
    let rows: Vec<(Case, sottovoce::NluResult)> =
        parse("dev", DEV).into_iter().map(|c| { let nlu = bot.understand(&c.text); (c, nlu) }).collect();
    for threshold in [0.3_f32, 0.4, 0.5, 0.6, 0.7] {
        let mut by_locale: BTreeMap<String, Tally> = BTreeMap::new();
        for (c, nlu) in &rows {
            let best = nlu.ranking.first().filter(|(_, p)| *p >= threshold).map(|(i, _)| i.as_str());
            // The entity rule of `understand` holds at every threshold.
            let acted = if nlu.intent.is_none() && nlu.confidence >= bot.threshold() { None } else { best };
            // An out-of-scope row (`"intent": "oos"`) is right when nothing is acted on.
            let ok = if c.intent == "oos" { acted.is_none() } else { acted == Some(c.intent.as_str()) };
            let key = if c.intent == "oos" { format!("oos-{}", c.locale) } else { c.locale.clone() };
            by_locale.entry(key).or_default().add(ok);
        }
        let line: Vec<String> = by_locale.iter().map(|(l, t)| format!("{l} {:.3}", t.rate())).collect();
        println!("dev at threshold {threshold:.1}: {}", line.join(", "));
    }
    let mut own = Tally::default();
    let (mut own_in, mut own_oos) = (Tally::default(), Tally::default());
    for (c, nlu) in &rows {
        let ok = if c.intent == "oos" { nlu.intent.is_none() } else { nlu.intent.as_deref() == Some(c.intent.as_str()) };
        own.add(ok);
        if c.intent == "oos" { own_oos.add(ok) } else { own_in.add(ok) }
        if !ok {
            println!("  dev miss [{}] {:?}: want {}, got {:?} {:?}", c.locale, c.text, c.intent, nlu.intent, nlu.ranking.first());
        }
    }
    println!("dev at the bot's own rule: in scope {:.3}, out of scope {:.3}", own_in.rate(), own_oos.rate());
    assert!(own.rate() >= MIN_SET_ACCURACY, "dev accuracy {:.3} is below {MIN_SET_ACCURACY}", own.rate());
}
