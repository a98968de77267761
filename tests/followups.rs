//! Held-out product follow-ups (issue 4): `tests/fixtures/followups/*.yaml` hold conversations
//! in which a product comes up in passing and the visitor then asks whether "it" is waterproof.
//! Each is a story run by the same runner as `sottovoce test`; this driver reports the share
//! that passes, per locale, with every failing turn, and fails below [`FLOOR`].
//!
//! The stories were written apart from the bot's examples and the `tests/stories` scripts and
//! are not used to tune either, so the share estimates how often a visitor's follow-up is
//! answered about the right product.

use std::path::PathBuf;

use sottovoce::stories::{run_story, StoryFile};
use sottovoce::Bot;

/// The share of stories that must pass. Measured on 2026-11-21: before the product memory (a
/// product was only kept by intents whose reply uses it, and "para" read as a typo of "parka")
/// 12 of 24 passed (50.0%); with it 23 of 24 (95.8%; the miss is a Spanish phrasing the
/// classifier does not recognise as a waterproof question). The floor, 20 of 24, leaves room
/// for three misses from a retrained classifier and fails as soon as the memory is lost.
const FLOOR: f64 = 0.8;

#[test]
fn product_follow_ups_refer_to_the_product_just_discussed() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/fixtures/followups");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/followups")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let (mut passed, mut total) = (0usize, 0usize);
    let mut by_locale: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let mut failures = Vec::new();
    let mut bots: std::collections::HashMap<String, Bot> = Default::default();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable fixture");
        let file: StoryFile = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        for story in file.into_stories(&name) {
            let bot_path = story.bot.clone().unwrap_or_else(|| panic!("{}: no `bot`", story.name));
            let bot = bots.entry(bot_path.clone()).or_insert_with(|| {
                let bytes = std::fs::read(root.join(&bot_path)).expect("bot file");
                Bot::load(&bytes).unwrap_or_else(|e| panic!("{bot_path}: {e}"))
            });
            let report = run_story(bot, &story);
            let locale = story.locale.clone().unwrap_or_else(|| "en".into());
            let entry = by_locale.entry(locale).or_default();
            total += 1;
            entry.1 += 1;
            if report.passed() {
                passed += 1;
                entry.0 += 1;
            } else {
                failures.push(report.to_string());
            }
        }
    }
    assert!(total >= 20, "expected at least 20 held-out follow-ups, found {total}");
    let share = passed as f64 / total as f64;
    eprintln!("product follow-ups: {passed}/{total} = {:.1}%", 100.0 * share);
    for (locale, (p, t)) in &by_locale {
        eprintln!("  {locale}: {p}/{t}");
    }
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(share >= FLOOR, "product follow-ups {passed}/{total} = {:.1}% is below the floor {:.0}%", 100.0 * share, 100.0 * FLOOR);
}
