//! Calibration of [`sottovoce::DEFAULT_THRESHOLD`], the confidence below which the bot answers
//! with the fallback, on data that is not the demo bot's held-out test set.
//!
//! In scope: 5-fold cross-validation over the demo store bot's own examples (train on four
//! fifths, classify the fifth). Out of scope: the English out-of-scope queries of CLINC150's
//! train and val splits (200 questions no shop assistant is meant to answer, from
//! `../shared/data/clinc150`; its test split is never read here). For every threshold the test
//! computes the in-scope accuracy (right intent and confident) and the out-of-scope rejection
//! (not confident, or the reserved `out_of_scope` intent wins: the rule the widget runs), and
//! prints the table. The bot's own `out_of_scope` examples are trained on in every fold and
//! measured in none. The threshold is chosen together with the familiar-wording rule
//! ([`DialogueSettings::accepts`]: a lower threshold for messages whose n-grams the examples
//! mostly taught): the rule that acts rightly on the most in-scope examples while rejecting at
//! least 90 % of the out-of-scope queries and at least 90 % of the dev set's off-topic rows
//! (below; CLINC150's queries are a proxy, and with the classifier's idf weighting the rule
//! chosen on them alone let through 11 % of the shop's own off-topic dev rows). The defaults must reject that many and accept within
//! a point of that rule, unless the demo's dev set (`tests/fixtures/nlu/store-dev.jsonl`:
//! customers' phrasings and off-topic questions written for tuning, apart from the held-out
//! sets) says otherwise: a rule that the bot's own examples favour but that acts rightly on no
//! more dev rows than the defaults (in scope, the right intent acted on; off topic, nothing
//! acted on) is no reason to retune. When the classifier or the examples change, this test
//! says whether the defaults need retuning, and to what.

use serde::Deserialize;
use sottovoce::definition::DialogueSettings;
use sottovoce::{Bot, BotDefinition, DEFAULT_THRESHOLD, OUT_OF_SCOPE_INTENT};

const FOLDS: usize = 5;

#[derive(Deserialize)]
struct Row {
    text: String,
    intent: String,
}

fn clinc_oos() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for split in ["train", "val"] {
        let path = root.join(format!("../shared/data/clinc150/{split}.jsonl"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let row: Row =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if row.intent == "oos" {
                out.push(row.text);
            }
        }
    }
    out
}

/// One scored query: its best confidence, its n-gram coverage and, in scope, whether the best
/// intent is the expected one; out of scope, whether the reserved intent won.
#[derive(Clone, Copy)]
struct Scored {
    confidence: f32,
    coverage: f32,
    flag: bool,
}

/// The in-scope examples (5-fold) and the out-of-scope queries, scored.
fn scores(def: &BotDefinition, oos: &[String]) -> (Vec<Scored>, Vec<Scored>) {
    let mut in_scope = Vec::new();
    let mut out_scope = Vec::new();
    for fold in 0..FOLDS {
        let mut train = def.clone();
        let mut held: Vec<(String, String)> = Vec::new();
        let mut n = 0usize;
        for intent in train.intents.iter_mut().filter(|i| i.name != OUT_OF_SCOPE_INTENT) {
            for examples in intent.examples.values_mut() {
                let mut kept = Vec::new();
                for e in examples.drain(..) {
                    if n % FOLDS == fold {
                        held.push((e, intent.name.clone()));
                    } else {
                        kept.push(e);
                    }
                    n += 1;
                }
                *examples = kept;
            }
        }
        let bot = Bot::train(train).expect("a fold of the store bot trains");
        for (text, intent) in &held {
            let (ranking, coverage) = bot.classify_with_coverage(text);
            let (best, confidence) = ranking.first().cloned().unwrap_or_default();
            in_scope.push(Scored { confidence, coverage, flag: &best == intent });
        }
        // Each fold's model scores a fifth of the out-of-scope queries.
        for (i, text) in oos.iter().enumerate() {
            if i % FOLDS == fold {
                let (ranking, coverage) = bot.classify_with_coverage(text);
                let (best, confidence) = ranking.first().cloned().unwrap_or_default();
                out_scope.push(Scored { confidence, coverage, flag: best == OUT_OF_SCOPE_INTENT });
            }
        }
    }
    (in_scope, out_scope)
}

/// The acceptance rule of [`DialogueSettings::accepts`] with these three settings.
fn rule(threshold: f32, familiar_threshold: f32, familiar_coverage: f32) -> DialogueSettings {
    DialogueSettings { threshold, familiar_threshold, familiar_coverage, ..DialogueSettings::DEFAULT }
}

/// (in-scope accepted and right, out-of-scope rejected), each in [0, 1], under `settings`.
fn rates(in_scope: &[Scored], out_scope: &[Scored], settings: &DialogueSettings) -> (f64, f64) {
    let accepted_right = in_scope.iter().filter(|s| s.flag && settings.accepts(s.confidence, s.coverage)).count();
    // The reserved intent winning is a fallback under any rule.
    let rejected = out_scope.iter().filter(|s| s.flag || !settings.accepts(s.confidence, s.coverage)).count();
    (accepted_right as f64 / in_scope.len() as f64, rejected as f64 / out_scope.len() as f64)
}

/// The demo's dev rows, scored by the bot trained on all its examples; an off-topic row
/// (`"intent": "oos"`) is flagged when the reserved intent wins, an in-scope one when its
/// intent is the best.
fn dev_scores(def: &BotDefinition) -> Vec<(bool, Scored)> {
    let bot = Bot::train(def.clone()).expect("the store bot trains");
    include_str!("fixtures/nlu/store-dev.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let row: Row = serde_json::from_str(line).unwrap_or_else(|e| panic!("store-dev.jsonl: {e}: {line}"));
            let (ranking, coverage) = bot.classify_with_coverage(&row.text);
            let (best, confidence) = ranking.first().cloned().unwrap_or_default();
            let off_topic = row.intent == "oos";
            let flag = if off_topic { best == OUT_OF_SCOPE_INTENT } else { best == row.intent };
            (off_topic, Scored { confidence, coverage, flag })
        })
        .collect()
}

/// The share of the dev set's off-topic rows that `settings` answers with the fallback (the
/// reserved intent winning, or the best intent not acted on).
fn dev_off_topic_rejected(dev: &[(bool, Scored)], settings: &DialogueSettings) -> f64 {
    let off: Vec<&Scored> = dev.iter().filter(|(off_topic, _)| *off_topic).map(|(_, s)| s).collect();
    off.iter().filter(|s| s.flag || !settings.accepts(s.confidence, s.coverage)).count() as f64 / off.len().max(1) as f64
}

/// The dev rows `settings` gets right: an in-scope row's intent acted on, an off-topic row
/// answered with the fallback.
fn dev_right(dev: &[(bool, Scored)], settings: &DialogueSettings) -> usize {
    dev.iter()
        .filter(|(off_topic, s)| {
            let acted = settings.accepts(s.confidence, s.coverage);
            if *off_topic { s.flag || !acted } else { s.flag && acted }
        })
        .count()
}

/// The share of out-of-scope queries the chosen rule must still reject: issue 17's goal for
/// off-topic questions answered with the fallback.
const MIN_REJECTED: f64 = 0.90;

#[test]
fn default_threshold_is_calibrated() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/bots/store.json");
    let text = std::fs::read_to_string(path).expect("the demo bot exists");
    let mut def = BotDefinition::from_json(&text).expect("the demo bot is valid");
    def.threshold = None;
    def.dialogue = None;
    let oos = clinc_oos();
    assert!(oos.len() >= 150, "expected CLINC150's out-of-scope queries, found {}", oos.len());
    let (in_scope, out_scope) = scores(&def, &oos);
    let top1 = in_scope.iter().filter(|s| s.flag).count() as f64 / in_scope.len() as f64;
    eprintln!(
        "threshold calibration: {} in-scope examples ({FOLDS}-fold), {} out-of-scope queries; top-1 accuracy {top1:.3}",
        in_scope.len(),
        out_scope.len(),
    );

    // The threshold alone (the familiar-wording rule off), for the record.
    eprintln!("  threshold alone  in-scope accepted right  out-of-scope rejected  balanced");
    for step in (5..=90).step_by(5) {
        let t = step as f32 / 100.0;
        let (acc, rej) = rates(&in_scope, &out_scope, &rule(t, 1.0, 1.0));
        eprintln!("  {t:>15.2}  {acc:>24.3}  {rej:>21.3}  {:>8.3}", (acc + rej) / 2.0);
    }

    // The three settings together: the most in-scope examples acted on rightly among the
    // rules that reject at least MIN_REJECTED of the out-of-scope queries and of the dev set's
    // off-topic rows, written for this shop (ties: more dev rows right, then the better
    // balanced score, then the first found). A familiar threshold at or
    // above the threshold is the rule off, so the threshold alone is among the candidates.
    let dev = dev_scores(&def);
    let mut best: Option<((f64, f64, usize), (f32, f32, f32))> = None;
    for t in 30..=90 {
        let threshold = t as f32 / 100.0;
        for f in (10..=t).step_by(2) {
            let familiar = f as f32 / 100.0;
            for c in (50..=95).step_by(5) {
                let coverage = c as f32 / 100.0;
                let candidate = rule(threshold, familiar, coverage);
                let (acc, rej) = rates(&in_scope, &out_scope, &candidate);
                if rej < MIN_REJECTED || dev_off_topic_rejected(&dev, &candidate) < MIN_REJECTED {
                    continue;
                }
                let right = dev_right(&dev, &candidate);
                let better = best.is_none_or(|((a, r, d), _)| {
                    acc > a || (acc == a && (right > d || (right == d && acc + rej > a + r)))
                });
                if better {
                    best = Some(((acc, rej, right), (threshold, familiar, coverage)));
                }
            }
        }
    }
    let ((best_acc, best_rej, _), (t, f, c)) = best.expect("some rule rejects enough out-of-scope queries");
    let defaults = DialogueSettings::DEFAULT;
    let (acc, rej) = rates(&in_scope, &out_scope, &defaults);
    let (alone_acc, alone_rej) = rates(&in_scope, &out_scope, &rule(defaults.threshold, 1.0, 1.0));
    eprintln!(
        "  chosen (most in-scope right with out-of-scope rejected >= {MIN_REJECTED}): threshold {t:.2}, \
         familiar_threshold {f:.2}, familiar_coverage {c:.2}: in-scope {best_acc:.3}, out-of-scope {best_rej:.3}"
    );
    eprintln!(
        "  defaults {:.2} / {:.2} / {:.2}: in-scope {acc:.3}, out-of-scope {rej:.3}; \
         the threshold {:.2} alone: in-scope {alone_acc:.3}, out-of-scope {alone_rej:.3}",
        defaults.threshold, defaults.familiar_threshold, defaults.familiar_coverage, defaults.threshold
    );
    let (dev_defaults, dev_best) = (dev_right(&dev, &defaults), dev_right(&dev, &rule(t, f, c)));
    eprintln!("  dev set ({} rows) right: defaults {dev_defaults}, the chosen rule {dev_best}", dev.len());
    assert!(
        rej >= MIN_REJECTED && dev_off_topic_rejected(&dev, &defaults) >= MIN_REJECTED && (acc >= best_acc - 0.01 || dev_defaults > dev_best),
        "the default rule ({DEFAULT_THRESHOLD}, {}, {}) accepts {acc:.3} of in-scope rightly and rejects {rej:.3} \
         of out-of-scope; the best rule ({t:.2}, {f:.2}, {c:.2}) {best_acc:.3} and {best_rej:.3}, and {dev_best} dev rows right \
         against the defaults' {dev_defaults}: retune the defaults",
        defaults.familiar_threshold,
        defaults.familiar_coverage
    );
}
