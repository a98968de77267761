//! A message prepared for the extractors: chars, a byte → char offset map and folded words.

use super::Entity;

/// One word: a maximal run of letters, with its char span and a folded form (lower case, accents
/// removed: `Dieciséis` → `dieciseis`) so word lists match however the visitor typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) folded: String,
}

/// The message as the extractors see it.
#[derive(Debug)]
pub(crate) struct Text<'a> {
    pub(crate) src: &'a str,
    pub(crate) chars: Vec<char>,
    /// Byte offset of each char, plus `src.len()` at the end.
    byte_of: Vec<usize>,
    pub(crate) words: Vec<Word>,
}

impl<'a> Text<'a> {
    pub(crate) fn new(src: &'a str) -> Text<'a> {
        let mut chars = Vec::with_capacity(src.len());
        let mut byte_of = Vec::with_capacity(src.len() + 1);
        for (b, c) in src.char_indices() {
            chars.push(c);
            byte_of.push(b);
        }
        byte_of.push(src.len());
        let mut words = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_alphabetic() {
                let start = i;
                while i < chars.len() && chars[i].is_alphabetic() {
                    i += 1;
                }
                let word = &chars[start..i];
                // ASCII (most words) lower-cases without Unicode tables and has no accents.
                let folded = if word.iter().all(char::is_ascii) {
                    word.iter().map(char::to_ascii_lowercase).collect()
                } else {
                    word.iter().flat_map(|c| c.to_lowercase()).map(fold_accent).collect()
                };
                words.push(Word { start, end: i, folded });
            } else {
                i += 1;
            }
        }
        Text { src, chars, byte_of, words }
    }

    /// The char offset of a byte offset that starts a char (as regex matches do).
    pub(crate) fn char_at(&self, byte: usize) -> usize {
        self.byte_of.partition_point(|&b| b < byte)
    }

    /// The text of a char span.
    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.src[self.byte_of[start]..self.byte_of[end]]
    }

    /// An entity over a char span, its raw text taken from the message.
    pub(crate) fn entity(&self, name: &str, value: String, start: usize, end: usize) -> Entity {
        Entity { entity: name.to_string(), value, raw: self.slice(start, end).to_string(), start, end }
    }

    /// The chars between two offsets (empty when `end <= start`).
    pub(crate) fn between(&self, start: usize, end: usize) -> &[char] {
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

/// True when the gap between two words is only spaces (at least one).
pub(crate) fn is_space_gap(gap: &[char]) -> bool {
    !gap.is_empty() && gap.iter().all(|c| c.is_whitespace())
}

/// Lower-case Latin letter without its accent (`é` → `e`, `ñ` stays `ñ`: it is a letter of its own).
pub(crate) fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_offsets() {
        let t = Text::new("¡Veintidós niños!");
        assert_eq!(t.words.len(), 2);
        assert_eq!(t.words[0].folded, "veintidos");
        assert_eq!((t.words[1].start, t.words[1].end), (11, 16));
        assert_eq!(t.char_at("¡Veintidós".len()), 10);
        assert_eq!(t.slice(1, 10), "Veintidós");
    }
}
