//! The message as the extractors see it: a view of the turn's [`Utterance`] with its chars, a
//! byte → char offset map and its words (letter runs, folded [`Fold::KeepEnye`]).
//!
//! [`Fold::KeepEnye`]: crate::text::Fold::KeepEnye

use super::Entity;
use crate::text::{Token, TokenKind, Utterance};

/// The message as the extractors see it.
#[derive(Debug)]
pub(crate) struct Text<'a> {
    utterance: &'a Utterance<'a>,
    /// The text with ASCII digits ([`Utterance::ascii_digits`]): what owner patterns read.
    pub(crate) ascii_digits: &'a str,
    /// The chars, Eastern Arabic and Persian digits as ASCII digits.
    pub(crate) chars: &'a [char],
    /// The letter runs, each with its char span and folded form (`Dieciséis` → `dieciseis`,
    /// `años` stays), so word lists match however the visitor typed it.
    pub(crate) words: Vec<&'a Token>,
}

impl<'a> Text<'a> {
    /// The extractors' view of `utterance`.
    pub(crate) fn new(utterance: &'a Utterance<'a>) -> Text<'a> {
        let words = utterance.tokens().iter().filter(|t| t.kind == TokenKind::Letters).collect();
        Text { utterance, ascii_digits: utterance.ascii_digits(), chars: utterance.chars(), words }
    }

    /// The char offset of a byte offset of [`Text::ascii_digits`] that starts a char.
    pub(crate) fn char_at_ascii(&self, byte: usize) -> usize {
        self.utterance.char_at_ascii(byte)
    }

    /// The text of a char span.
    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a str {
        self.utterance.slice(start, end)
    }

    /// The tokens of the message (letter runs, digit runs, single marks).
    pub(crate) fn tokens(&self) -> &'a [Token] {
        self.utterance.tokens()
    }

    /// An entity over a char span, its raw text taken from the message.
    pub(crate) fn entity(&self, name: &str, value: String, start: usize, end: usize) -> Entity {
        Entity { entity: name.to_string(), value, raw: self.slice(start, end).to_string(), start, end }
    }

    /// The chars between two offsets (empty when `end <= start`).
    pub(crate) fn between(&self, start: usize, end: usize) -> &'a [char] {
        if end <= start {
            &[]
        } else {
            &self.chars[start..end]
        }
    }

    /// Index of the first word starting at or after char `pos`.
    pub(crate) fn word_at_or_after(&self, pos: usize) -> usize {
        self.words.partition_point(|w| w.start < pos)
    }
}

/// True for a char that glues to a number or address beside it: a letter or digit, but not one
/// of a script written without spaces ([`crate::text::is_cjk`]).
pub(crate) fn glues(c: char) -> bool {
    c.is_alphanumeric() && !crate::text::is_cjk(c)
}

/// True when the gap between two words is only spaces (at least one).
pub(crate) fn is_space_gap(gap: &[char]) -> bool {
    !gap.is_empty() && gap.iter().all(|c| c.is_whitespace())
}

/// True when a token may start at char `i`: not glued to a letter, digit or `_` before it,
/// directly or across one joining mark (`-`, `/`, `.`, `,`, `'`, `:`) that follows one.
///
/// The Arabic conjunction `و` written on its own before a number (`و١٢`, and 12) does not glue.
pub(crate) fn starts_token(c: &[char], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let p = c[i - 1];
    if p == 'و' && (i == 1 || c[i - 2].is_whitespace()) {
        return true;
    }
    if glues(p) || p == '_' {
        return false;
    }
    if matches!(p, '-' | '/' | '.' | ',' | '_' | '\'' | ':') && i >= 2 && (glues(c[i - 2]) || c[i - 2] == '_') {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_offsets() {
        let u = Utterance::analyze("¡Veintidós niños!", "es");
        let t = Text::new(&u);
        assert_eq!(t.words.len(), 2);
        assert_eq!(t.words[0].folded, "veintidos");
        assert_eq!(t.words[1].folded, "niños");
        assert_eq!((t.words[1].start, t.words[1].end), (11, 16));
        assert_eq!(t.char_at_ascii("¡Veintidós".len()), 10);
        assert_eq!(t.slice(1, 10), "Veintidós");
        assert!(starts_token(t.chars, 1) && !starts_token(t.chars, 2));
    }
}
