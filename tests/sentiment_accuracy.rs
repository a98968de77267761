//! Sentiment measured on labelled customer-service messages (issue 4):
//! `tests/fixtures/sentiment/*.yaml` hold English, Spanish, French, German, Brazilian
//! Portuguese and Arabic messages labelled negative,
//! neutral or positive, half `dev` (read when fixing the lexicon) and half `heldout` (only
//! scored). Each message is scored by [`sottovoce::sentiment::score`] in its locale and
//! classed as the bot classes it ([`sottovoce::stories::sentiment_class`]: at or below -0.5
//! negative, at or above 0.5 positive). Reports accuracy per split, locale and label, lists
//! the misses, and fails when held-out accuracy drops below [`FLOOR`].

use std::collections::BTreeMap;

use serde::Deserialize;
use sottovoce::sentiment::score;
use sottovoce::stories::sentiment_class;

/// Minimum held-out accuracy (three classes). Measured on 2026-11-21 (42 held-out messages,
/// 14 per class, 21 per locale): 38/42 = 90.5% both before and after the lexicon fixes read
/// off the dev half (dev went from 35/42 to 42/42: the fixes were Spanish gender and number
/// forms, inflections and the words of dev misses, none of which the held-out lines needed).
/// Always answering one class scores 33%. The floor, 80%, is four held-out messages below the
/// measured figure: a rule or lexicon change that costs about ten points fails, while one
/// reworded entry does not. With French, German, Portuguese and Arabic added (issue 19, 2026-12-04;
/// their lexicons written from the dev lines only): 118/126 = 93.7% held out (en 19/21, es
/// 19/21, fr 20/21, de 21/21, pt-BR 21/21, ar 18/21), dev 126/126.
const FLOOR: f64 = 0.8;

#[derive(Deserialize)]
struct File {
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Message {
    locale: String,
    label: String,
    split: String,
    text: String,
}

#[test]
fn lexicon_sentiment_accuracy_on_labelled_messages() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sentiment");
    let mut messages = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/fixtures/sentiment") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(&path).expect("readable");
            let file: File = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            messages.extend(file.messages);
        }
    }
    assert!(messages.len() >= 60, "expected at least 60 labelled messages, found {}", messages.len());
    // (split, breakdown) -> (right, total)
    let mut tally: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for m in &messages {
        assert!(["negative", "neutral", "positive"].contains(&m.label.as_str()), "bad label {:?}", m.label);
        assert!(["dev", "heldout"].contains(&m.split.as_str()), "bad split {:?}", m.split);
        let s = score(&m.text, &m.locale);
        let got = sentiment_class(s);
        let right = got == m.label;
        for key in ["all".to_owned(), format!("locale {}", m.locale), format!("label {}", m.label)] {
            let t = tally.entry((m.split.clone(), key)).or_default();
            t.1 += 1;
            t.0 += usize::from(right);
        }
        if !right {
            misses.push(format!("  [{}] {} {:?}: {} ({s:.2}), expected {}", m.split, m.locale, m.text, got, m.label));
        }
    }
    for ((split, key), (right, total)) in &tally {
        eprintln!("{split:8} {key:16} {right:3}/{total:3} = {:5.1}%", 100.0 * *right as f64 / *total as f64);
    }
    eprintln!("misses:\n{}", misses.join("\n"));
    let (right, total) = tally[&("heldout".to_owned(), "all".to_owned())];
    let accuracy = right as f64 / total as f64;
    assert!(accuracy >= FLOOR, "held-out sentiment accuracy {right}/{total} = {:.1}% is below {:.0}%", 100.0 * accuracy, 100.0 * FLOOR);
}
