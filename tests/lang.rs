//! The built-in language identifier on its golden corpus (`tests/fixtures/lang/identify.tsv`,
//! shared with `benches/lang.rs`): every line's language is found, and nothing is guessed
//! from digits and marks.

use sottovoce::lang::identify;
use sottovoce::text::tokenize;

#[test]
fn the_identifier_names_every_line_of_the_corpus() {
    let corpus = include_str!("fixtures/lang/identify.tsv");
    let mut wrong = Vec::new();
    let mut n = 0;
    for line in corpus.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (code, text) = line.split_once('\t').expect("code<TAB>text");
        let got = identify(&tokenize(text)).map(|g| g.code);
        let expected = (code != "-").then_some(code);
        if got != expected {
            wrong.push(format!("{text:?}: expected {expected:?}, got {got:?}"));
        }
        n += 1;
    }
    assert!(n >= 70, "{n} lines");
    assert!(wrong.is_empty(), "{} of {n} wrong:\n{}", wrong.len(), wrong.join("\n"));
}
