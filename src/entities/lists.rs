//! Owner-defined `list` entities: values with synonyms, matched word by word with typo tolerance.
//!
//! Text and phrases are split into words (runs of letters and digits), folded (lower case,
//! accents removed). A phrase matches a run of message words that are equal, or, when the list
//! is fuzzy and the phrase word has five letters or more, at most one edit apart (optimal string
//! alignment distance: insertion, deletion, substitution or swap of neighbours), or the phrase
//! word plus a plural `s` / `es`. At each position the longest match wins, then the one with
//! fewer edits; matches of one list do not overlap.

use super::text::Text;
use super::Entity;
use crate::text::{tokenize, Token, TokenKind};

/// Folded words of a phrase or message: (start, end, folded) in chars. A word is a run of
/// letter and digit tokens with nothing between them (`iphone15`), folded as the tokens are.
fn words(tokens: &[Token]) -> Vec<(usize, usize, Vec<char>)> {
    let mut out: Vec<(usize, usize, Vec<char>)> = Vec::new();
    for t in tokens.iter().filter(|t| t.kind != TokenKind::Mark) {
        match out.last_mut() {
            Some(last) if last.1 == t.start => {
                last.1 = t.end;
                last.2.extend(t.folded.chars());
            }
            _ => out.push((t.start, t.end, t.folded.chars().collect())),
        }
    }
    out
}

/// The form a phrase is compared in: folded words joined by one space (`Money-Back` →
/// `money back`). Two phrases with the same key are the same phrase.
pub fn list_key(phrase: &str) -> String {
    words(&tokenize(phrase)).into_iter().map(|(_, _, w)| w.into_iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// Edits between two words when at most one (optimal string alignment distance), else `None`.
pub(crate) fn within_one(a: &[char], b: &[char]) -> Option<u32> {
    if a == b {
        return Some(0);
    }
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > 1 {
        return None;
    }
    let mut i = 0;
    while i < n.min(m) && a[i] == b[i] {
        i += 1;
    }
    let ok = if n == m {
        a[i + 1..] == b[i + 1..] || (i + 1 < n && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 2..] == b[i + 2..])
    } else if n > m {
        a[i + 1..] == b[i..]
    } else {
        a[i..] == b[i + 1..]
    };
    ok.then_some(1)
}

/// A compiled list entity.
#[derive(Debug, Clone)]
pub(crate) struct List {
    name: String,
    fuzzy: bool,
    values: Vec<String>,
    /// (folded words, index into `values`)
    phrases: Vec<(Vec<Vec<char>>, usize)>,
}

impl List {
    pub(crate) fn new(name: &str, entries: &[crate::definition::ListValueDef], fuzzy: bool) -> List {
        let mut values = Vec::new();
        let mut phrases = Vec::new();
        for (k, e) in entries.iter().enumerate() {
            values.push(e.value.clone());
            for p in std::iter::once(&e.value).chain(&e.synonyms) {
                let ws: Vec<Vec<char>> = words(&tokenize(p)).into_iter().map(|(_, _, w)| w).collect();
                if !ws.is_empty() {
                    phrases.push((ws, k));
                }
            }
        }
        List { name: name.to_string(), fuzzy, values, phrases }
    }

    /// Edits between a message word and a phrase word, if they match; `known` says whether a
    /// message word is a real word of the bot's languages, which is then no typo of another.
    fn word_cost(&self, text: &[char], phrase: &[char], known: &dyn Fn(&str) -> bool) -> Option<u32> {
        if text == phrase {
            return Some(0);
        }
        let plural = text.len() > phrase.len() && text.starts_with(phrase) && matches!(&text[phrase.len()..], ['s'] | ['e', 's']);
        if plural && phrase.len() >= 3 {
            return Some(1);
        }
        let letters = phrase.iter().filter(|c| c.is_alphabetic()).count();
        // A shorter typed word only as the singular of a plural phrase ("boot" for "boots"):
        // "para" is one deletion from "parka" but the commonest word of Spanish.
        let singular = phrase.last() == Some(&'s') && text == &phrase[..phrase.len() - 1];
        if self.fuzzy && letters >= 5 && letters == phrase.len() && (text.len() >= 5 || singular) && text.iter().all(|c| c.is_alphabetic()) {
            return within_one(text, phrase).filter(|_| !known(&text.iter().collect::<String>()));
        }
        None
    }

    /// Appends the matches in `t` to `out`; `known` as in [`List::word_cost`].
    pub(crate) fn find(&self, t: &Text<'_>, known: &dyn Fn(&str) -> bool, out: &mut Vec<Entity>) {
        let ws = words(t.tokens());
        let joinable = |a: usize, b: usize| t.between(a, b).iter().all(|c| c.is_whitespace() || matches!(c, '-' | '\'' | '’' | '/'));
        let mut i = 0;
        while i < ws.len() {
            // (end word index, edits, value index)
            let mut best: Option<(usize, u32, usize)> = None;
            for (phrase, value) in &self.phrases {
                if i + phrase.len() > ws.len() {
                    continue;
                }
                let mut cost = 0;
                let matched = phrase.iter().enumerate().all(|(k, pw)| {
                    let w = &ws[i + k];
                    if k > 0 && !joinable(ws[i + k - 1].1, w.0) {
                        return false;
                    }
                    self.word_cost(&w.2, pw, known).map(|c| cost += c).is_some()
                });
                let end = i + phrase.len();
                if matched && best.is_none_or(|(e, c, _)| end > e || (end == e && cost < c)) {
                    best = Some((end, cost, *value));
                }
            }
            match best {
                Some((end, _, value)) => {
                    out.push(t.entity(&self.name, self.values[value].clone(), ws[i].0, ws[end - 1].1));
                    i = end;
                }
                None => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit() {
        let w = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(within_one(&w("refund"), &w("refund")), Some(0));
        assert_eq!(within_one(&w("refnud"), &w("refund")), Some(1));
        assert_eq!(within_one(&w("refun"), &w("refund")), Some(1));
        assert_eq!(within_one(&w("reffund"), &w("refund")), Some(1));
        assert_eq!(within_one(&w("rrfund"), &w("refund")), Some(1));
        assert_eq!(within_one(&w("rfnd"), &w("refund")), None);
        assert_eq!(within_one(&w("erfnud"), &w("refund")), None);
        assert_eq!(list_key("  Money-BACK! "), "money back");
    }
}
