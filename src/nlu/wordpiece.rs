//! WordPiece tokenisation (Schuster & Nakajima, 2012; BERT's greedy longest-match-first form):
//! a word becomes the longest vocabulary token that starts it, then the longest `##`
//! continuation token that starts the rest, and so on.
//!
//! The vocabulary comes with a [`StaticVectors`](super::vectors::StaticVectors) table; the
//! words come from [`normalize`](crate::text::normalize) (lowercase, accents folded, punctuation
//! dropped), which is what BERT-base uncased's own basic tokenizer does to them, except that
//! punctuation is dropped instead of becoming tokens of its own.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::text::{fmix64, fnv1a_byte, FNV_OFFSET};

/// The prefix that marks a token continuing a word.
const CONTINUATION: &str = "##";

/// Words longer than this many characters become `[UNK]` (BERT's `max_input_chars_per_word`).
const MAX_WORD_CHARS: usize = 100;

/// FNV-1a over the key's bytes with MurmurHash3's finaliser: token lookups hash short strings
/// many times per query, where the standard library's SipHash (built against hash flooding,
/// which a fixed vocabulary does not need) costs several times more, in WebAssembly most.
struct TokenHasher(u64);

impl Default for TokenHasher {
    fn default() -> Self {
        TokenHasher(FNV_OFFSET)
    }
}

impl Hasher for TokenHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = bytes.iter().fold(self.0, |h, &b| fnv1a_byte(h, b));
    }

    fn finish(&self) -> u64 {
        fmix64(self.0)
    }
}

/// Token text to row number.
type TokenMap = HashMap<Box<str>, u32, BuildHasherDefault<TokenHasher>>;

/// A WordPiece vocabulary: token text to row number.
#[derive(Debug, Clone, Default)]
pub struct WordPiece {
    /// Tokens that start a word, by their text.
    starts: TokenMap,
    /// `##` tokens, by their text without the `##`.
    continuations: TokenMap,
    /// The row of `[UNK]`, for a word no sequence of tokens covers; such a word is skipped when
    /// the vocabulary has no `[UNK]`.
    unk: Option<u32>,
    /// The longest token, in bytes (without `##`): no longer match needs to be tried.
    max_bytes: usize,
}

impl WordPiece {
    /// Builds the vocabulary from tokens in row order (row `i` is `tokens[i]`). A repeated
    /// token keeps its first row; a bare `##` is an ordinary token.
    pub fn new<'a>(tokens: impl IntoIterator<Item = &'a str>) -> WordPiece {
        let mut wp = WordPiece::default();
        for (row, token) in tokens.into_iter().enumerate() {
            let row = row as u32;
            if token == "[UNK]" {
                wp.unk.get_or_insert(row);
            }
            let (map, text) = match token.strip_prefix(CONTINUATION) {
                Some(rest) if !rest.is_empty() => (&mut wp.continuations, rest),
                _ => (&mut wp.starts, token),
            };
            wp.max_bytes = wp.max_bytes.max(text.len());
            map.entry(text.into()).or_insert(row);
        }
        wp
    }

    /// The row of `word` when it is one whole vocabulary token (no `##` continuation).
    pub fn whole(&self, word: &str) -> Option<u32> {
        self.starts.get(word).copied()
    }

    /// The row of a whole vocabulary token one edit away from `word` (Norvig's spelling
    /// corrector: a letter deleted, two neighbours swapped, a letter replaced or inserted, over
    /// `a`-`z`), the lowest row (the most frequent token) when several are; `None` when none is
    /// or `word` is not lowercase ASCII letters. At most `54n + 25` lookups for `n` letters.
    /// `scratch` is reused for the candidates.
    pub fn correct(&self, word: &str, scratch: &mut Vec<u8>) -> Option<u32> {
        let w = word.as_bytes();
        if !w.iter().all(u8::is_ascii_lowercase) {
            return None;
        }
        let mut best: Option<u32> = None;
        let mut try_candidate = |c: &[u8]| {
            // Candidates are ASCII, so UTF-8.
            if let Some(&row) = std::str::from_utf8(c).ok().and_then(|c| self.starts.get(c)) {
                best = Some(best.map_or(row, |b| b.min(row)));
            }
        };
        for i in 0..w.len() {
            scratch.clear();
            scratch.extend_from_slice(&w[..i]);
            scratch.extend_from_slice(&w[i + 1..]);
            try_candidate(scratch);
            if i + 1 < w.len() && w[i] != w[i + 1] {
                scratch.clear();
                scratch.extend_from_slice(w);
                scratch.swap(i, i + 1);
                try_candidate(scratch);
            }
            for letter in b'a'..=b'z' {
                if letter != w[i] {
                    scratch.clear();
                    scratch.extend_from_slice(w);
                    scratch[i] = letter;
                    try_candidate(scratch);
                }
            }
        }
        for i in 0..=w.len() {
            for letter in b'a'..=b'z' {
                scratch.clear();
                scratch.extend_from_slice(&w[..i]);
                scratch.push(letter);
                scratch.extend_from_slice(&w[i..]);
                try_candidate(scratch);
            }
        }
        best
    }

    /// Appends the rows of `word`'s tokens to `out`: the greedy longest-match split, or the
    /// `[UNK]` row (nothing without one) when no split covers the whole word.
    pub(crate) fn tokenize_word(&self, word: &str, out: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        let before = out.len();
        if word.chars().count() <= MAX_WORD_CHARS {
            let mut start = 0;
            while start < word.len() {
                let rest = &word[start..];
                let map = if start == 0 { &self.starts } else { &self.continuations };
                // Longest first: the candidate ends are the rest's character boundaries.
                let mut end = rest.len().min(self.max_bytes);
                let found = loop {
                    while end > 0 && !rest.is_char_boundary(end) {
                        end -= 1;
                    }
                    if end == 0 {
                        break None;
                    }
                    if let Some(&row) = map.get(&rest[..end]) {
                        break Some(row);
                    }
                    end -= 1;
                };
                match found {
                    Some(row) => {
                        out.push(row);
                        start += end;
                    }
                    None => break,
                }
            }
            if start == word.len() {
                return;
            }
        }
        out.truncate(before);
        out.extend(self.unk);
    }

    /// Number of distinct tokens.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.starts.len() + self.continuations.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> WordPiece {
        WordPiece::new(["[PAD]", "[UNK]", "un", "##aff", "##able", "una", "cancel", "##lation", "##s", "é", "##"])
    }

    fn rows(wp: &WordPiece, word: &str) -> Vec<u32> {
        let mut out = vec![99];
        wp.tokenize_word(word, &mut out);
        out.remove(0);
        out
    }

    #[test]
    fn greedy_longest_match_with_continuations() {
        let wp = vocab();
        assert_eq!(rows(&wp, "unaffable"), vec![1], "greedy, no backtracking (as BERT): una, then no ##ffable");
        assert_eq!(rows(&WordPiece::new(["un", "##aff", "##able"]), "unaffable"), vec![0, 1, 2]);
        assert_eq!(rows(&wp, "cancellations"), vec![6, 7, 8]);
        assert_eq!(rows(&wp, "cancel"), vec![6]);
        assert_eq!(rows(&wp, "é"), vec![9], "multi-byte tokens");
        assert_eq!(rows(&wp, "##"), vec![10]);
        assert_eq!(wp.len(), 11);
    }

    #[test]
    fn an_uncovered_word_is_unk_and_leaves_no_partial_pieces() {
        let wp = vocab();
        assert_eq!(rows(&wp, "cancelx"), vec![1]);
        assert_eq!(rows(&wp, "zzz"), vec![1]);
        assert_eq!(rows(&wp, "éé"), vec![1], "no ##é: char boundaries are respected");
        assert_eq!(rows(&wp, &"a".repeat(101)), vec![1]);
        assert_eq!(rows(&wp, ""), Vec::<u32>::new());
        let no_unk = WordPiece::new(["un", "##able"]);
        assert_eq!(rows(&no_unk, "zzz"), Vec::<u32>::new());
    }
}
