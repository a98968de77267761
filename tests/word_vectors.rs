//! The shipped static word-vector table (`assets/vectors/`): it is the recorded one, its
//! neighbours make sense, a bot trained with it needs it to load, and what it does to the demo
//! store bot on the held-out phrasings (`tests/fixtures/nlu/store-heldout*.jsonl`), per locale.

use std::sync::Arc;

use sottovoce::model::ModelError;
use sottovoce::nlu::StaticVectors;
use sottovoce::{Bot, BotError};

const TABLE: &[u8] = include_bytes!("../assets/vectors/minilm-l6-d64.svvec");
const NOTICE: &str = include_str!("../assets/vectors/NOTICE");
const LICENSE: &str = include_str!("../assets/vectors/LICENSE");
/// FNV-1a 64 of the table, as `scripts/distill-vectors.py export` printed it
/// (assets/vectors/README.md).
const TABLE_HASH: u64 = 0xb2b3_fb90_3e56_8084;

const STORE: &str = include_str!("../www/bots/store.json");
const HELDOUT: [&str; 2] =
    [include_str!("fixtures/nlu/store-heldout.jsonl"), include_str!("fixtures/nlu/store-heldout-fresh.jsonl")];

fn table() -> Arc<StaticVectors> {
    Arc::new(StaticVectors::from_bytes(TABLE).expect("assets/vectors/minilm-l6-d64.svvec reads"))
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn the_shipped_table_is_the_recorded_one_with_its_license() {
    let t = table();
    assert_eq!((t.rows(), t.dim()), (29_528, 64));
    assert_eq!(t.hash(), TABLE_HASH, "the table changed: update TABLE_HASH and assets/vectors/README.md");
    assert!(NOTICE.contains("all-MiniLM-L6-v2 (Apache-2.0)"), "{NOTICE}");
    assert!(LICENSE.contains("Apache License") && LICENSE.contains("Version 2.0"));
}

#[test]
fn related_words_are_closer_than_unrelated_ones() {
    let t = table();
    // (word, related, unrelated): the related one must be closer.
    let triples = [
        ("cancel", "terminate", "weather"),
        ("money", "cash", "rain"),
        ("weather", "forecast", "refund"),
        ("flight", "airline", "salary"),
        ("card", "visa", "song"),
    ];
    for (w, near, far) in triples {
        let (a, b, c) = (t.embed(w), t.embed(near), t.embed(far));
        assert!(cosine(&a, &b) > cosine(&a, &c) + 0.1, "{w}: {near} {} vs {far} {}", cosine(&a, &b), cosine(&a, &c));
    }
}

#[test]
fn a_bot_trained_with_vectors_loads_only_with_them() {
    let t = table();
    let definition = sottovoce::BotDefinition::from_json(STORE).expect("store.json");
    let bot = Bot::train_with_vectors(definition, Some(&t)).expect("trains");
    let model = bot.to_model();
    match Bot::from_model(&model) {
        Err(BotError::Model(ModelError::VectorsRequired { hash, dim: 64 })) => assert_eq!(hash, TABLE_HASH),
        other => panic!("expected VectorsRequired, got {:?}", other.map(|_| "a bot")),
    }
    let loaded = Bot::from_model_with_vectors(&model, Some(&t)).expect("loads with its table");
    for text in ["where is my order", "¿Dónde está mi pedido?", "i want my money back"] {
        assert_eq!(loaded.understand(text), bot.understand(text), "{text}");
    }
}

/// Top-1 intent of the store bot on the held-out phrasings, per locale, without and with the
/// vectors (printed; `cargo test --test word_vectors -- --nocapture`). The table is English
/// (BERT's uncased vocabulary): Spanish words split into odd pieces. The test requires that
/// neither locale loses more than 2 points.
#[test]
fn store_heldout_top1_per_locale() {
    #[derive(serde::Deserialize)]
    struct Case {
        text: String,
        intent: String,
        locale: String,
    }
    let cases: Vec<Case> = HELDOUT
        .iter()
        .flat_map(|f| f.lines().filter(|l| !l.trim().is_empty()))
        .map(|l| serde_json::from_str(l).expect("held-out line"))
        .collect();
    let t = table();
    let definition = || sottovoce::BotDefinition::from_json(STORE).expect("store.json");
    let plain = Bot::train(definition()).expect("trains");
    let with = Bot::train_with_vectors(definition(), Some(&t)).expect("trains");
    let top1 = |bot: &Bot, locale: &str| {
        let of: Vec<&Case> = cases.iter().filter(|c| c.locale == locale).collect();
        let right = of
            .iter()
            .filter(|c| bot.understand(&c.text).ranking.first().is_some_and(|(i, _)| *i == c.intent))
            .count();
        (100.0 * right as f64 / of.len() as f64, of.len())
    };
    for locale in ["en", "es"] {
        let ((a, n), (b, _)) = (top1(&plain, locale), top1(&with, locale));
        println!("store held-out top-1, {locale} ({n} lines): {a:.2} % without vectors, {b:.2} % with");
        assert!(b >= a - 2.0, "{locale}: {a:.2} -> {b:.2}");
    }
}
