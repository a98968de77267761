//! Calibration of the locale classifier's pruning ([`TrainOptions::locale`]): 5-fold
//! cross-validation over the demo store bot's examples, each labelled with its locale, for the
//! shipped options and other pruning levels. It prints accuracy and the classifier's size
//! (postcard bytes, what the model's common file carries for it), and fails when the shipped
//! options fall more than two tenths of a point under the best level of the grid (retune them).

use sottovoce::nlu::{IntentClassifier, TrainOptions};
use sottovoce::slots::parse_markup;
use sottovoce::BotDefinition;

const FOLDS: usize = 5;

/// The pruning levels compared (`min_weight` and `min_negative_weight` alike).
const LEVELS: [f32; 5] = [0.05, 0.06, 0.08, 0.1, 0.12];

/// Every example of the demo bot, markup removed, with its locale's index; and the number of
/// locales.
fn examples() -> (Vec<(String, usize)>, usize) {
    let def = BotDefinition::from_json(include_str!("../www/bots/store.json")).expect("the demo bot reads");
    let mut out = Vec::new();
    for intent in &def.intents {
        for (locale, examples) in &intent.examples {
            let l = def.locales.iter().position(|x| x == locale).expect("a locale of the bot");
            for e in examples {
                out.push((parse_markup(e).map(|a| a.text).unwrap_or_else(|_| e.clone()), l));
            }
        }
    }
    (out, def.locales.len())
}

/// (accuracy in [0, 1], mean postcard bytes of the folds' classifiers).
fn cross_validate(options: &TrainOptions, data: &[(String, usize)], n: usize) -> (f64, usize) {
    let (mut right, mut bytes) = (0usize, 0usize);
    for fold in 0..FOLDS {
        let train: Vec<(&str, usize)> =
            data.iter().enumerate().filter(|(i, _)| i % FOLDS != fold).map(|(_, (t, l))| (t.as_str(), *l)).collect();
        let c = IntentClassifier::train(&train, n, options);
        bytes += postcard::to_allocvec(&c).expect("serializes").len();
        for (_, (text, l)) in data.iter().enumerate().filter(|(i, _)| i % FOLDS == fold) {
            let p = c.predict(text);
            let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
            right += usize::from(best == *l);
        }
    }
    (right as f64 / data.len() as f64, bytes / FOLDS)
}

#[test]
fn the_locale_classifiers_pruning_is_calibrated() {
    let (data, n) = examples();
    let shipped = TrainOptions::locale();
    let (accuracy, bytes) = cross_validate(&shipped, &data, n);
    println!("locale classifier, {} examples, {n} locales, {FOLDS}-fold cross-validation", data.len());
    println!("  shipped (pruning {}): accuracy {accuracy:.4}, {bytes} bytes", shipped.min_weight);
    let (mut best, mut best_level) = (0.0f64, 0.0f32);
    for level in LEVELS {
        let o = TrainOptions { min_weight: level, min_negative_weight: level, ..TrainOptions::locale() };
        let (a, b) = cross_validate(&o, &data, n);
        println!("  pruning {level}: accuracy {a:.4}, {b} bytes");
        if a > best {
            (best, best_level) = (a, level);
        }
    }
    assert!(
        accuracy >= best - 0.002,
        "the shipped pruning's accuracy {accuracy:.4} is more than two tenths of a point under pruning {best_level}'s {best:.4}: retune TrainOptions::locale"
    );
}
