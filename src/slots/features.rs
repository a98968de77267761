//! Hashed token features for the slot tagger, and the gazetteer of slot values seen in training.

use serde::{Deserialize, Serialize};

use crate::text::{fnv1a_byte, splitmix_mix, Token, FNV_OFFSET};

/// FNV-1a over the parts of one feature, finished by the SplitMix64 mixer: stable across
/// platforms and Rust versions, unlike `std`'s hashers, so a saved model keeps its meaning.
#[derive(Clone, Copy)]
struct Fh(u64);

impl Fh {
    fn new(template: u8) -> Fh {
        Fh(FNV_OFFSET).byte(template)
    }
    fn byte(self, b: u8) -> Fh {
        Fh(fnv1a_byte(self.0, b))
    }
    fn str(self, s: &str) -> Fh {
        s.bytes().fold(self, Fh::byte).byte(0xff)
    }
    fn num(self, n: u32) -> Fh {
        n.to_le_bytes().into_iter().fold(self, Fh::byte)
    }
    fn finish(self) -> u64 {
        splitmix_mix(self.0)
    }
}

/// Slot values seen in training, keyed by a 32-bit hash of their lower-cased tokens.
///
/// `entries` is sorted by key; a key may carry several slots. `folds` (training only, empty in
/// a trained model) holds, per entry, a bit set of the data folds the value was seen in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Gazetteer {
    pub(crate) max_tokens: u8,
    pub(crate) entries: Vec<(u32, u16)>,
    #[serde(skip)]
    pub(crate) folds: Vec<u32>,
}

/// Values longer than this many tokens are not matched (titles rarely are).
pub(crate) const GAZETTEER_MAX_TOKENS: usize = 8;

fn gaz_key<'a>(tokens: impl Iterator<Item = &'a str>) -> u32 {
    let h = tokens.fold(Fh::new(0xa0), |h, t| h.str(t));
    (h.finish() >> 32) as u32
}

impl Gazetteer {
    /// Builds from `(value tokens, slot id, fold)` triples.
    pub(crate) fn build<'a>(values: impl Iterator<Item = (&'a [Token], u16, u32)>) -> Gazetteer {
        // `(key, slot)` with its fold bit, sorted, then equal keys merged (fold sets OR-ed): a
        // sorted Vec rather than a BTreeMap, whose code would cost wasm bytes for this one use.
        let mut pairs: Vec<((u32, u16), u32)> = Vec::new();
        let mut max_tokens = 0;
        for (toks, slot, fold) in values {
            if toks.is_empty() || toks.len() > GAZETTEER_MAX_TOKENS {
                continue;
            }
            max_tokens = max_tokens.max(toks.len());
            let key = gaz_key(toks.iter().map(|t| t.lower.as_str()));
            pairs.push(((key, slot), 1 << (fold % 32)));
        }
        crate::sort::sort_by_key(&mut pairs, |p| p.0);
        let mut entries: Vec<(u32, u16)> = Vec::with_capacity(pairs.len());
        let mut folds: Vec<u32> = Vec::with_capacity(pairs.len());
        for (key, bit) in pairs {
            let n = entries.len();
            if n > 0 && entries[n - 1] == key {
                folds[n - 1] |= bit;
            } else {
                entries.push(key);
                folds.push(bit);
            }
        }
        Gazetteer {
            max_tokens: max_tokens as u8,
            entries,
            folds,
        }
    }

    /// Forgets the fold sets once training is over.
    pub(crate) fn finish_training(&mut self) {
        self.folds = Vec::new();
    }

    /// Every `(start token, end token exclusive, slot)` whose tokens spell a known value.
    /// With `exclude_fold`, values seen only in that fold are ignored.
    pub(crate) fn matches(
        &self,
        tokens: &[Token],
        exclude_fold: Option<u32>,
        out: &mut Vec<(usize, usize, u16)>,
    ) {
        out.clear();
        if self.entries.is_empty() {
            return;
        }
        for s in 0..tokens.len() {
            let mut h = Fh::new(0xa0);
            for (e, token) in tokens
                .iter()
                .enumerate()
                .take(s + self.max_tokens as usize)
                .skip(s)
            {
                h = h.str(&token.lower);
                let key = (h.finish() >> 32) as u32;
                let from = self.entries.partition_point(|&(k, _)| k < key);
                for (j, &(k, slot)) in self.entries[from..].iter().enumerate() {
                    if k != key {
                        break;
                    }
                    if let (Some(fold), Some(mask)) = (exclude_fold, self.folds.get(from + j)) {
                        if mask & !(1 << (fold % 32)) == 0 {
                            continue;
                        }
                    }
                    out.push((s, e + 1, slot));
                }
            }
        }
    }
}

/// "Shape" of a word: upper → `X`, lower → `x`, digit → `d`, others kept, runs collapsed
/// (`McDonald's` → `XxXx'x`).
fn shape(word: &str) -> String {
    let mut out = String::new();
    let mut last = None;
    for c in word.chars() {
        let s = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_numeric() {
            'd'
        } else {
            c
        };
        if last != Some(s) {
            out.push(s);
            last = Some(s);
        }
    }
    out
}

fn prefix(s: &str, n: usize) -> Option<&str> {
    let mut it = s.char_indices();
    let (end, _) = it.nth(n)?;
    Some(&s[..end])
}

fn suffix(s: &str, n: usize) -> Option<&str> {
    let count = s.chars().count();
    if count <= n {
        return None;
    }
    let (start, _) = s.char_indices().nth(count - n)?;
    Some(&s[start..])
}

const BOS: &str = "<s>";
const EOS: &str = "</s>";

/// Feature hashes of every token, flattened: the features of token `i` are
/// `feats[offsets[i]..offsets[i + 1]]`, of which `feats[offsets[i]..mids[i]]` do not depend on
/// the intent. `gaz` are gazetteer matches from [`Gazetteer::matches`]; `intent`, when known,
/// adds intent-conjoined copies of the most telling features.
pub(crate) fn extract(
    tokens: &[Token],
    intent: Option<u32>,
    gaz: &[(usize, usize, u16)],
    feats: &mut Vec<u64>,
    offsets: &mut Vec<u32>,
    mids: &mut Vec<u32>,
) {
    feats.clear();
    offsets.clear();
    mids.clear();
    offsets.push(0);
    let n = tokens.len();
    let word = |i: isize| -> &str {
        if i < 0 {
            BOS
        } else if i as usize >= n {
            EOS
        } else {
            &tokens[i as usize].lower
        }
    };
    let shapes: Vec<String> = tokens.iter().map(|t| shape(&t.text)).collect();
    let shape_at = |i: isize| -> &str {
        if i < 0 {
            BOS
        } else if i as usize >= n {
            EOS
        } else {
            &shapes[i as usize]
        }
    };
    for (i, tok) in tokens.iter().enumerate() {
        let ii = i as isize;
        let w = tok.lower.as_str();
        let (p1, p2, n1, n2) = (word(ii - 1), word(ii - 2), word(ii + 1), word(ii + 2));
        let mut gaz_here = Vec::new();
        let mut push = |h: Fh| feats.push(h.finish());
        push(Fh::new(1));
        push(Fh::new(2).str(w));
        push(Fh::new(3).str(&shapes[i]));
        push(
            Fh::new(4)
                .str(shape_at(ii - 1))
                .str(&shapes[i])
                .str(shape_at(ii + 1)),
        );
        for k in 2..=3 {
            if let Some(p) = prefix(w, k) {
                push(Fh::new(5).num(k as u32).str(p));
            }
        }
        for k in 2..=4 {
            if let Some(s) = suffix(w, k) {
                push(Fh::new(6).num(k as u32).str(s));
            }
        }
        push(Fh::new(7).str(p1));
        push(Fh::new(8).str(p2));
        push(Fh::new(9).str(n1));
        push(Fh::new(10).str(n2));
        push(Fh::new(11).str(p1).str(w));
        push(Fh::new(12).str(w).str(n1));
        push(Fh::new(13).str(p2).str(p1));
        push(Fh::new(14).str(n1).str(n2));
        push(Fh::new(15).str(p1).str(n1));
        push(Fh::new(16).num(tok.text.chars().count().min(8) as u32));
        for &(s, e, slot) in gaz {
            if s > i || i >= e {
                continue;
            }
            let pos: u8 = match (e - s == 1, i == s, i + 1 == e) {
                (true, _, _) => b'U',
                (_, true, _) => b'B',
                (_, _, true) => b'L',
                _ => b'I',
            };
            let slot = u32::from(slot);
            push(Fh::new(60).num(slot).byte(pos));
            push(Fh::new(61).num(slot).byte(pos).num((e - s).min(4) as u32));
            gaz_here.push((slot, pos));
        }
        mids.push(feats.len() as u32);
        if let Some(intent) = intent {
            let mut push = |h: Fh| feats.push(h.finish());
            push(Fh::new(40).num(intent));
            push(Fh::new(41).num(intent).str(w));
            push(Fh::new(42).num(intent).str(p1));
            push(Fh::new(43).num(intent).str(n1));
            push(Fh::new(44).num(intent).str(p1).str(w));
            push(Fh::new(45).num(intent).str(&shapes[i]));
            for &(slot, pos) in &gaz_here {
                push(Fh::new(62).num(slot).byte(pos).num(intent));
            }
        }
        offsets.push(feats.len() as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    #[test]
    fn shapes_collapse_runs() {
        assert_eq!(shape("McDonald's"), "XxXx'x");
        assert_eq!(shape("2019"), "d");
    }

    #[test]
    fn affixes_need_a_longer_word() {
        assert_eq!(prefix("jazz", 2), Some("ja"));
        assert_eq!(suffix("jazz", 3), Some("azz"));
        assert_eq!(suffix("jaz", 3), None);
        assert_eq!(prefix("né", 2), None);
    }

    #[test]
    fn gazetteer_matches_other_folds_only() {
        let v = tokenize("new york");
        let w = tokenize("paris");
        let g = Gazetteer::build([(&v[..], 0u16, 0u32), (&w[..], 0, 1)].into_iter());
        let s = tokenize("from New York to paris");
        let mut out = Vec::new();
        g.matches(&s, None, &mut out);
        assert_eq!(out, [(1, 3, 0), (4, 5, 0)]);
        g.matches(&s, Some(0), &mut out);
        assert_eq!(out, [(4, 5, 0)]);
    }
}
