//! What language identification adds to a message, natively: the built-in identifier
//! (`lang::identify`) and the explicit-request check (`lang::requested`) per message of the
//! golden corpus `tests/fixtures/lang/identify.tsv` (the tokens are the turn's own analysis,
//! already there), `Bot::detect_language` (all of it: analysis, the demo bot's locale
//! classifier and both checks), beside the whole `Bot::understand` of the demo bot; and the locale accuracy
//! of the demo bot on the `clear` rows of `tests/fixtures/lang/store-short.tsv`. Prints a
//! table and writes `bench-results/lang.json`.
//!
//! Run with `cargo bench -p sottovoce --bench lang`.

use std::hint::black_box;
use std::time::Instant;

use sottovoce::lang::{identify, requested};
use sottovoce::text::tokenize;
use sottovoce::Bot;

/// Mean µs per call of `f` over `items`, repeated until about 0.5 s have passed.
fn time<T>(items: &[T], mut f: impl FnMut(&T)) -> f64 {
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed().as_secs_f64() < 0.5 {
        for item in items {
            f(item);
        }
        calls += items.len() as u64;
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}

fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(|l| l.split('\t').collect()).collect()
}

fn main() {
    let corpus = rows(include_str!("../tests/fixtures/lang/identify.tsv"));
    let texts: Vec<&str> = corpus.iter().map(|r| r[1]).collect();
    let tokens: Vec<_> = texts.iter().map(|t| tokenize(t)).collect();
    let identify_us = time(&tokens, |t| {
        black_box(identify(black_box(t)));
    });
    let requested_us = time(&tokens, |t| {
        black_box(requested(black_box(t)));
    });
    let bot = Bot::from_json(include_str!("../www/bots/store.json")).expect("the demo bot trains");
    let understand_us = time(&texts, |t| {
        black_box(bot.understand(black_box(t)));
    });
    // Everything language detection does in a turn, its own analysis of the text included.
    let detect_us = time(&texts, |t| {
        black_box(bot.detect_language(black_box(t)));
    });
    let tokenize_us = time(&texts, |t| {
        black_box(tokenize(black_box(t)));
    });

    let short = rows(include_str!("../tests/fixtures/lang/store-short.tsv"));
    let clear: Vec<_> = short.iter().filter(|r| r[0] == "clear").collect();
    let right = clear.iter().filter(|r| bot.understand(r[3]).locale == r[2]).count();
    let locale_accuracy = right as f64 / clear.len().max(1) as f64;

    println!("language identification per message (native, {} messages of {} languages)", texts.len(), corpus.iter().map(|r| r[0]).filter(|c| *c != "-").collect::<std::collections::BTreeSet<_>>().len());
    println!("  lang::identify            {identify_us:8.2} µs");
    println!("  lang::requested           {requested_us:8.2} µs");
    println!("  Bot::detect_language      {detect_us:8.2} µs (store bot: analysis + locale classifier + both above)");
    println!("  text::tokenize            {tokenize_us:8.2} µs (part of the analysis)");
    println!("  Bot::understand (store)   {understand_us:8.2} µs (whole, for scale)");
    println!("  store bot locale accuracy {:.2} % on {} clear short messages", locale_accuracy * 100.0, clear.len());
    let json = serde_json::json!({
        "messages": texts.len(),
        "identify_us": (identify_us * 100.0).round() / 100.0,
        "requested_us": (requested_us * 100.0).round() / 100.0,
        "added_us": ((identify_us + requested_us) * 100.0).round() / 100.0,
        "detect_language_us": (detect_us * 100.0).round() / 100.0,
        "tokenize_us": (tokenize_us * 100.0).round() / 100.0,
        "understand_us": (understand_us * 100.0).round() / 100.0,
        "store_locale_accuracy_clear": (locale_accuracy * 10000.0).round() / 100.0,
        "store_clear_rows": clear.len(),
    });
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results/lang.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).expect("json") + "\n").expect("write bench-results/lang.json");
    println!("wrote {}", out.display());
}
