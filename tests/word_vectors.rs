//! The shipped static word-vector table (`assets/vectors/`): it is the recorded one, its
//! neighbours make sense, a bot trained with it needs it to load, and what it does to the demo
//! store bot on the held-out phrasings (`tests/fixtures/nlu/store-heldout*.jsonl`), per locale.

use std::sync::Arc;

use sottovoce::model::ModelError;
use sottovoce::nlu::{SentenceEncoder, StaticVectors};
use sottovoce::definition::{DefinitionError, WORD_VECTOR_TABLES};
use sottovoce::{Bot, BotDefinition, BotError};

const TABLE: &[u8] = include_bytes!("../assets/vectors/minilm-l6-d64.svvec");
const NOTICE: &str = include_str!("../assets/vectors/NOTICE");
const LICENSE: &str = include_str!("../assets/vectors/LICENSE");
/// FNV-1a 64 of the table, as `scripts/distill-vectors.py export` printed it
/// (assets/vectors/README.md).
const TABLE_HASH: u64 = 0xb2b3_fb90_3e56_8084;

const STORE: &str = include_str!("../www/bots/store.json");
/// `tests/fixtures/bots/mini.json` with `"word_vectors": "minilm-l6-d64"`.
const MINI_VECTORS: &str = include_str!("fixtures/bots/mini-word-vectors.json");
const HELDOUT: [&str; 2] =
    [include_str!("fixtures/nlu/store-heldout.jsonl"), include_str!("fixtures/nlu/store-heldout-fresh.jsonl")];

/// The table as the dense-block source `Bot` takes.
fn as_encoder(t: &Arc<StaticVectors>) -> Arc<dyn SentenceEncoder> {
    Arc::clone(t) as Arc<dyn SentenceEncoder>
}

fn table() -> Arc<StaticVectors> {
    Arc::new(StaticVectors::from_bytes(TABLE).expect("assets/vectors/minilm-l6-d64.svvec reads"))
}

/// The demo store bot, opted in to the shipped table.
fn store_with_vectors() -> BotDefinition {
    let mut definition = BotDefinition::from_json(STORE).expect("store.json");
    definition.word_vectors = Some("minilm-l6-d64".into());
    definition
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
    let bot = Bot::train_with_vectors(store_with_vectors(), Some(&as_encoder(&t))).expect("trains");
    let model = bot.to_model();
    match Bot::from_model(&model) {
        Err(BotError::Model(ModelError::VectorsRequired { hash, dim: 64 })) => assert_eq!(hash, TABLE_HASH),
        other => panic!("expected VectorsRequired, got {:?}", other.map(|_| "a bot")),
    }
    let loaded = Bot::from_model_with_vectors(&model, Some(&as_encoder(&t))).expect("loads with its table");
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
    let plain = Bot::train(sottovoce::BotDefinition::from_json(STORE).expect("store.json")).expect("trains");
    let with = Bot::train_with_vectors(store_with_vectors(), Some(&as_encoder(&t))).expect("trains");
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

#[test]
fn the_shipped_table_is_the_one_definitions_name() {
    assert_eq!(WORD_VECTOR_TABLES[0], ("minilm-l6-d64", TABLE_HASH, 0.5));
}

/// A definition with `word_vectors` (the fixture) trains with the table, its model records the
/// table and the field, and loads back only with the table, answering alike.
#[test]
fn a_definition_with_word_vectors_round_trips_through_the_model_file() {
    let t = table();
    let definition = BotDefinition::from_json(MINI_VECTORS).expect("fixture parses");
    assert_eq!(definition.word_vectors.as_deref(), Some("minilm-l6-d64"));
    let bot = Bot::train_with_vectors(definition, Some(&as_encoder(&t))).expect("trains");
    let model = bot.to_model();
    assert!(
        matches!(Bot::from_model(&model), Err(BotError::Model(ModelError::VectorsRequired { hash: TABLE_HASH, dim: 64 }))),
        "a model with word vectors needs the table"
    );
    let loaded = Bot::from_model_with_vectors(&model, Some(&as_encoder(&t))).expect("loads with its table");
    assert_eq!(loaded.definition().word_vectors.as_deref(), Some("minilm-l6-d64"));
    assert_eq!(loaded.to_model(), model, "the model file round-trips byte for byte");
    for text in ["where is my order", "cancel it please", "¿Dónde está mi pedido?"] {
        assert_eq!(loaded.understand(text), bot.understand(text), "{text}");
    }
    // The same bot without the field ignores a table passed to it: its model needs none.
    let mut plain = BotDefinition::from_json(MINI_VECTORS).expect("fixture parses");
    plain.word_vectors = None;
    let plain = Bot::train_with_vectors(plain, Some(&as_encoder(&t))).expect("trains");
    Bot::from_model(&plain.to_model()).expect("a model without word vectors loads without a table");

    // What the widget and the CLI ask before loading: which table, if any, to fetch.
    assert_eq!(Bot::vectors_needed(MINI_VECTORS.as_bytes()), Some("minilm-l6-d64"));
    assert_eq!(Bot::vectors_needed(&model), Some("minilm-l6-d64"));
    assert_eq!(Bot::vectors_needed(STORE.as_bytes()), None);
    assert_eq!(Bot::vectors_needed(&plain.to_model()), None);
    let unknown = MINI_VECTORS.replace("\"minilm-l6-d64\"", "\"other-table\"");
    assert_eq!(Bot::vectors_needed(unknown.as_bytes()), None, "only names the core lists");
}

#[test]
fn word_vectors_errors_are_typed_and_name_the_field() {
    // Asked for, not given.
    match Bot::from_json(MINI_VECTORS) {
        Err(e @ BotError::VectorsNotGiven(_)) => {
            assert!(matches!(&e, BotError::VectorsNotGiven(n) if n == "minilm-l6-d64"));
            assert!(e.to_string().starts_with("word_vectors: "), "{e}");
        }
        other => panic!("expected VectorsNotGiven, got {:?}", other.map(|_| "a bot")),
    }
    // Another table than the one named.
    let mut other = TABLE.to_vec();
    let last = other.len() - 1;
    other[last] ^= 1;
    let other = Arc::new(StaticVectors::from_bytes(&other).expect("still a table"));
    let definition = BotDefinition::from_json(MINI_VECTORS).expect("fixture parses");
    match Bot::train_with_vectors(definition, Some(&as_encoder(&other))) {
        Err(BotError::VectorsMismatch { name, expected: TABLE_HASH, found }) => {
            assert_eq!((name.as_str(), found), ("minilm-l6-d64", other.hash()));
        }
        other => panic!("expected VectorsMismatch, got {:?}", other.map(|_| "a bot")),
    }
    // A table name this build does not know: a validation problem at `word_vectors`.
    let unknown = MINI_VECTORS.replace("\"minilm-l6-d64\"", "\"glove-300\"");
    match BotDefinition::from_json(&unknown) {
        Err(DefinitionError::Invalid(problems)) => {
            let p: Vec<String> = problems.iter().map(ToString::to_string).collect();
            assert_eq!(p.len(), 1, "{p:?}");
            assert!(p[0].starts_with("word_vectors") && p[0].contains("glove-300") && p[0].contains("minilm-l6-d64"), "{p:?}");
        }
        other => panic!("expected DefinitionError::Invalid, got {other:?}"),
    }
    // Not a string: the parser names the field.
    let wrong_type = MINI_VECTORS.replace("\"minilm-l6-d64\"", "64");
    let e = BotDefinition::from_json(&wrong_type).expect_err("a number is not a table name");
    assert!(e.to_string().contains("line"), "{e}");
}
