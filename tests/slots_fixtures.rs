//! Fixture driver for slots: runs every `tests/fixtures/slots/*.yaml` file.
//!
//! A file may hold `markup` cases (an annotated line and the plain text and spans it must give,
//! or the error it must raise) and a `train` + `cases` pair (annotated examples per intent; texts
//! to tag with the expected `[slot, value]` pairs). See `markup.yaml` and `tagger.yaml`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use sottovoce::slots::{parse_markup, SlotError, SlotExample, SlotTagger, SlotTrainOptions};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    #[serde(default)]
    markup: Vec<MarkupCase>,
    #[serde(default)]
    train: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    cases: Vec<TagCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkupCase {
    line: String,
    text: Option<String>,
    #[serde(default)]
    spans: Vec<(String, String, usize)>,
    error: Option<String>,
    offending: Option<String>,
    at: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagCase {
    text: String,
    /// The intent name; `~` (null) tags without one.
    intent: Option<String>,
    expect: Vec<(String, String)>,
}

/// The fixture name of an error kind, with its offending text and offset.
fn describe(e: &SlotError) -> (&'static str, String, usize) {
    match e {
        SlotError::UnclosedBracket { text, at } => ("unclosed_bracket", text.clone(), *at),
        SlotError::NestedBracket { text, at } => ("nested_bracket", text.clone(), *at),
        SlotError::MissingLabel { text, at } => ("missing_label", text.clone(), *at),
        SlotError::UnclosedLabel { text, at } => ("unclosed_label", text.clone(), *at),
        SlotError::EmptyLabel { text, at } => ("empty_label", text.clone(), *at),
        SlotError::EmptyValue { text, at } => ("empty_value", text.clone(), *at),
        SlotError::InvalidLabel { text, at, .. } => ("invalid_label", text.clone(), *at),
        other => panic!("unexpected error kind from parse_markup: {other}"),
    }
}

fn check_markup(file: &str, cases: &[MarkupCase], failures: &mut Vec<String>) {
    for c in cases {
        let got = parse_markup(&c.line);
        match (&c.error, got) {
            (None, Ok(a)) => {
                let spans: Vec<(String, String, usize)> = a
                    .spans
                    .iter()
                    .map(|s| (s.slot.clone(), s.value.clone(), s.start))
                    .collect();
                let want_text = c.text.as_deref().unwrap_or_default();
                if a.text != want_text || spans != c.spans {
                    failures.push(format!(
                        "{file}: {:?}\n  expected {want_text:?} {:?}\n  got      {:?} {spans:?}",
                        c.line, c.spans, a.text
                    ));
                }
                for s in &a.spans {
                    let covered: String =
                        a.text.chars().skip(s.start).take(s.end - s.start).collect();
                    if covered != s.value {
                        failures.push(format!(
                            "{file}: {:?}: span {s:?} covers {covered:?}",
                            c.line
                        ));
                    }
                }
            }
            (Some(kind), Err(e)) => {
                let (got_kind, text, at) = describe(&e);
                let want = (
                    kind.as_str(),
                    c.offending.clone().unwrap_or_default(),
                    c.at.unwrap_or(usize::MAX),
                );
                if (got_kind, text.clone(), at) != want {
                    failures.push(format!(
                        "{file}: {:?}\n  expected {want:?}\n  got      {:?}",
                        c.line,
                        (got_kind, text, at)
                    ));
                }
                let message = e.to_string();
                if !message.contains(&want.1) {
                    failures.push(format!(
                        "{file}: {:?}: message {message:?} does not quote the offending text",
                        c.line
                    ));
                }
            }
            (None, Err(e)) => failures.push(format!("{file}: {:?}: unexpected error {e}", c.line)),
            (Some(kind), Ok(a)) => failures.push(format!(
                "{file}: {:?}: expected {kind}, parsed as {:?}",
                c.line, a.text
            )),
        }
    }
}

fn check_tagger(file: &str, f: &Fixture, failures: &mut Vec<String>) {
    let intents: Vec<&String> = f.train.keys().collect();
    let mut parsed = Vec::new();
    for (i, lines) in f.train.values().enumerate() {
        for line in lines {
            parsed.push((
                parse_markup(line).unwrap_or_else(|e| panic!("{file}: {line:?}: {e}")),
                i,
            ));
        }
    }
    let examples: Vec<SlotExample> = parsed
        .iter()
        .map(|(a, i)| SlotExample {
            text: &a.text,
            spans: &a.spans,
            intent: *i,
        })
        .collect();
    let tagger =
        SlotTagger::train(&examples, &SlotTrainOptions::default()).expect("training fails");
    let bytes = postcard::to_allocvec(&tagger).expect("tagger serializes");
    let loaded: SlotTagger = postcard::from_bytes(&bytes).expect("tagger deserializes");
    for c in &f.cases {
        let intent = match &c.intent {
            None => None,
            Some(name) => match intents.iter().position(|i| *i == name) {
                Some(i) => Some(i),
                None => {
                    failures.push(format!("{file}: {:?}: unknown intent {name}", c.text));
                    continue;
                }
            },
        };
        let spans = tagger.tag(&c.text, intent);
        let got: Vec<(String, String)> = spans
            .iter()
            .map(|s| (s.slot.clone(), s.value.clone()))
            .collect();
        if got != c.expect {
            failures.push(format!(
                "{file}: {:?} ({:?})\n  expected {:?}\n  got      {got:?}",
                c.text, c.intent, c.expect
            ));
        }
        if loaded.tag(&c.text, intent) != spans {
            failures.push(format!(
                "{file}: {:?}: the deserialized tagger disagrees",
                c.text
            ));
        }
    }
}

#[test]
fn slot_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slots");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let (mut failures, mut cases) = (Vec::new(), 0);
    for path in &files {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let fixture: Fixture =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        check_markup(&file, &fixture.markup, &mut failures);
        if !fixture.cases.is_empty() {
            check_tagger(&file, &fixture, &mut failures);
        }
        cases += fixture.markup.len() + fixture.cases.len();
    }
    assert!(cases > 0, "the slot fixtures hold no cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} slot fixture cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
