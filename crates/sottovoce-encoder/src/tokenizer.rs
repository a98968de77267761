//! BERT's uncased tokenizer: clean, lower-case, strip accents (NFD without marks), split on
//! whitespace, punctuation and CJK characters, then greedy longest-match WordPiece with `##`
//! continuations (Wu et al. 2016; the rules of HuggingFace's `BertNormalizer`,
//! `BertPreTokenizer` and `WordPiece` with `max_input_chars_per_word` 100).

use crate::{EncoderError, MAX_TOKENS};
use std::collections::HashMap;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A WordPiece vocabulary with its `[CLS]`, `[SEP]` and `[UNK]` ids.
pub struct WordPiece {
    vocab: HashMap<String, u32>,
    cls: u32,
    sep: u32,
    unk: u32,
}

const MAX_CHARS_PER_WORD: usize = 100;

impl WordPiece {
    /// Reads `model.vocab` (token -> id) of a HuggingFace `tokenizer.json` whose model is WordPiece.
    ///
    /// # Errors
    /// [`EncoderError::Tokenizer`] when the JSON is not such a file or lacks a special token.
    pub fn from_tokenizer_json(bytes: &[u8]) -> Result<Self, EncoderError> {
        let bad = |m: String| EncoderError::Tokenizer(m);
        let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if json["model"]["type"] != "WordPiece" {
            return Err(bad(format!("model.type is {}, expected WordPiece", json["model"]["type"])));
        }
        let vocab: HashMap<String, u32> = json["model"]["vocab"]
            .as_object()
            .ok_or_else(|| bad("model.vocab is not an object".into()))?
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), u32::try_from(v.as_u64()?).ok()?)))
            .collect();
        let id = |t: &str| vocab.get(t).copied().ok_or_else(|| bad(format!("no {t} in the vocabulary")));
        Ok(Self { cls: id("[CLS]")?, sep: id("[SEP]")?, unk: id("[UNK]")?, vocab })
    }

    /// The vocabulary of `tokens` in id order (an empty string is an id without a token), as
    /// [`WordPiece::tokens`] lists it and a `.sven` file stores it.
    ///
    /// # Errors
    /// [`EncoderError::Tokenizer`] when `[CLS]`, `[SEP]` or `[UNK]` is missing.
    pub fn from_tokens(tokens: &[&str]) -> Result<Self, EncoderError> {
        let vocab: HashMap<String, u32> =
            tokens.iter().enumerate().filter(|(_, t)| !t.is_empty()).map(|(id, t)| ((*t).to_owned(), id as u32)).collect();
        let id = |t: &str| vocab.get(t).copied().ok_or_else(|| EncoderError::Tokenizer(format!("no {t} in the vocabulary")));
        Ok(Self { cls: id("[CLS]")?, sep: id("[SEP]")?, unk: id("[UNK]")?, vocab })
    }

    /// Vocabulary size: one past the largest id.
    pub fn vocab_len(&self) -> usize {
        self.vocab.values().max().map_or(0, |m| *m as usize + 1)
    }

    /// The vocabulary's tokens in id order (an id no token has is an empty string).
    pub fn tokens(&self) -> Vec<&str> {
        let mut out = vec![""; self.vocab_len()];
        for (token, &id) in &self.vocab {
            out[id as usize] = token;
        }
        out
    }

    /// Keeps only the tokens whose id `keep` accepts, and `[CLS]`, `[SEP]` and `[UNK]`: the
    /// greedy longest match then splits a word into the kept pieces, or reads it as `[UNK]`
    /// when they cannot cover it. Ids are unchanged. Returns how many tokens are left.
    pub fn retain(&mut self, keep: impl Fn(u32) -> bool) -> usize {
        let (cls, sep, unk) = (self.cls, self.sep, self.unk);
        self.vocab.retain(|_, id| *id == cls || *id == sep || *id == unk || keep(*id));
        self.vocab.len()
    }

    /// The `[UNK]` id.
    pub fn unk(&self) -> u32 {
        self.unk
    }

    /// `[CLS]`, the WordPiece ids of `text`, `[SEP]`; at most [`MAX_TOKENS`] ids.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = vec![self.cls];
        for word in pre_tokenize(text) {
            self.word_pieces(&word, &mut ids);
        }
        ids.truncate(MAX_TOKENS - 1);
        ids.push(self.sep);
        ids
    }

    fn word_pieces(&self, word: &str, ids: &mut Vec<u32>) {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() > MAX_CHARS_PER_WORD {
            ids.push(self.unk);
            return;
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut piece = String::new();
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                piece.clear();
                if start > 0 {
                    piece.push_str("##");
                }
                let to = chars.get(end).map_or(word.len(), |c| c.0);
                piece.push_str(&word[chars[start].0..to]);
                if let Some(&id) = self.vocab.get(&piece) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            let Some(id) = found else {
                ids.push(self.unk);
                return;
            };
            pieces.push(id);
            start = end;
        }
        ids.extend(pieces);
    }
}

/// Normalised words: control characters dropped, lower-cased, accents stripped, split at
/// whitespace, with each punctuation and CJK character a word of its own.
fn pre_tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    let lowered = text.to_lowercase();
    for c in lowered.nfd().filter(|c| !is_combining_mark(*c)) {
        if c == '\0' || c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        if c.is_whitespace() {
            flush(&mut cur, &mut words);
        } else if is_punctuation(c) || is_cjk(c) {
            flush(&mut cur, &mut words);
            words.push(c.to_string());
        } else {
            cur.push(c);
        }
    }
    flush(&mut cur, &mut words);
    words
}

/// ASCII symbols count as punctuation, as in BERT, plus the Unicode punctuation classes.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c, '¡' | '¿' | '«' | '»' | '§' | '¶' | '·' | '‐'..='‧' | '‰'..='⁞' | '、' | '。' | '「'..='』')
        || c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace() && c.is_ascii_graphic()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> WordPiece {
        let json = r###"{"model": {"type": "WordPiece", "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3,
            "refund": 4, "re": 5, "##fund": 6, "##f": 7, "##und": 8, "f": 9}}}"###;
        WordPiece::from_tokenizer_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn a_pruned_vocabulary_splits_into_the_pieces_it_kept_or_reads_unk() {
        let mut wp = vocab();
        assert_eq!(wp.encode("Refund"), vec![2, 4, 3]);
        assert_eq!(wp.retain(|id| [5, 7, 8].contains(&id)), 6, "three kept and the three special tokens");
        assert_eq!(wp.encode("refund"), vec![2, 5, 7, 8, 3]);
        assert_eq!(wp.encode("fund"), vec![2, 1, 3], "no kept piece starts it");
        assert_eq!(wp.tokens()[4], "", "a dropped token leaves its id empty");
    }
}
