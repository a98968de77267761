//! Criterion benchmarks of intent classification: one utterance at a time on a CLINC150 model
//! (150 intents, 15,000 examples, read from `../shared/data/clinc150`); everything the widget
//! does to understand a message (`Bot::understand`: intents, locale, entities, sentiment) on the
//! demo store bot over its held-out questions (`tests/fixtures/nlu/store-heldout.jsonl`), and
//! its intent ranking alone (`Bot::classify`);
//! training the CLINC150 model, and training the store bot (`www/bots/store.json`) as the
//! widget does.
//!
//! Run with `cargo bench -p sottovoce --bench classify`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sottovoce::nlu::{IntentClassifier, TrainOptions};

/// In-scope `(text, intent)` rows of a CLINC150 split, labels numbered in order of appearance.
fn clinc(split: &str, labels: &mut Vec<String>) -> Vec<(String, usize)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/clinc150").join(split);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSONL row");
        let intent = v["intent"].as_str().expect("intent");
        if intent == "oos" {
            continue;
        }
        let label = match labels.iter().position(|l| l == intent) {
            Some(l) => l,
            None => {
                labels.push(intent.to_string());
                labels.len() - 1
            }
        };
        rows.push((v["text"].as_str().expect("text").to_string(), label));
    }
    rows
}

fn benches(c: &mut Criterion) {
    let mut labels = Vec::new();
    let train = clinc("train.jsonl", &mut labels);
    let test = clinc("test.jsonl", &mut labels);
    let examples: Vec<(&str, usize)> = train.iter().map(|(t, l)| (t.as_str(), *l)).collect();
    let options = TrainOptions::default();
    let model = IntentClassifier::train(&examples, labels.len(), &options);

    let mut group = c.benchmark_group("classify");
    group.bench_function("clinc150 one utterance", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % test.len();
            black_box(model.predict(black_box(&test[i].0)))
        })
    });
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let store = std::fs::read_to_string(root.join("www/bots/store.json")).expect("www/bots/store.json");
    let bot = sottovoce::Bot::from_json(&store).expect("store bot trains");
    let heldout = std::fs::read_to_string(root.join("tests/fixtures/nlu/store-heldout.jsonl")).expect("held-out questions");
    let questions: Vec<String> = heldout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSONL row")["text"].as_str().expect("text").to_string())
        .collect();
    group.bench_function("store bot understand (one message)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % questions.len();
            black_box(bot.understand(black_box(&questions[i])))
        })
    });
    group.bench_function("store bot classify (intent ranking only)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % questions.len();
            black_box(bot.classify(black_box(&questions[i])))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    group.bench_function("clinc150 15k examples", |b| {
        b.iter(|| black_box(IntentClassifier::train(black_box(&examples), labels.len(), &options)))
    });
    group.bench_function("store bot (intents and locales)", |b| {
        b.iter(|| black_box(sottovoce::Bot::from_json(black_box(&store)).expect("store bot trains")))
    });
    group.finish();
}

criterion_group!(classify, benches);
criterion_main!(classify);
