//! Hashed sparse features of an utterance: word unigrams and bigrams, character n-grams inside
//! word boundaries, sublinear term frequency, one L2-normalised block per kind.
//!
//! Feature hashing (Weinberger et al., 2009, "Feature Hashing for Large Scale Multitask
//! Learning") maps every n-gram to one of `2^hash_bits` buckets, so no vocabulary travels with
//! the model; the model keeps weights only for the buckets training saw. Character n-grams are
//! taken from each word padded with a space on both sides (scikit-learn's `char_wb`), which makes
//! them robust to typos and inflection ("refund", "refunds", "reembolso"/"reembolsos").

use serde::{Deserialize, Serialize};

use super::vectors::SentenceEncoder;
use crate::text::{fmix64, fnv1a_char, normalize_into, FNV_OFFSET, FNV_PRIME};

/// What features to extract. Stored in the model so prediction matches training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Buckets are `0..2^hash_bits`; at most 32.
    pub hash_bits: u8,
    /// Longest word n-gram (1 = unigrams only, 2 = and bigrams, 3 = and trigrams).
    pub word_ngrams: u8,
    /// Shortest character n-gram, counting the padding spaces.
    pub char_min: u8,
    /// Longest character n-gram, counting the padding spaces; 0 turns character n-grams off.
    pub char_max: u8,
    /// Relative weight of the word block (each block is L2-normalised, then scaled by this).
    pub word_weight: f32,
    /// Relative weight of the character block.
    pub char_weight: f32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            hash_bits: 22,
            word_ngrams: 2,
            char_min: 2,
            char_max: 5,
            word_weight: 1.0,
            char_weight: 1.0,
        }
    }
}

const SEED_WORD: u64 = FNV_OFFSET;
const SEED_BIGRAM: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED_TRIGRAM: u64 = 0x27d4_eb2f_1656_67c5;
const SEED_CHAR: u64 = 0xc2b2_ae3d_27d4_eb4f;
/// Stands for the start and the end of the utterance in word bigrams.
const BOUNDARY: u64 = 0x1656_67b1_9e37_79f9;

/// The hash of one normalised word: its unigram feature, and the part of the n-grams it is in.
fn word_hash(word: &str) -> u64 {
    word.chars().fold(SEED_WORD, fnv1a_char)
}


/// Reusable buffers, so extracting features allocates nothing once warm.
///
/// A new one reserves room for a typical utterance (about 30 words), so even a one-off
/// extraction allocates each buffer once instead of growing it step by step.
#[derive(Debug)]
pub(crate) struct Scratch {
    text: String,
    chars: Vec<char>,
    words: Vec<u64>,
    word_buckets: Vec<u32>,
    char_buckets: Vec<u32>,
    /// The sentence vector, for the dense block.
    dense: Vec<f32>,
    /// The result of the last [`FeatureConfig::extract`]: `(bucket, value)`, word block first.
    pub(crate) features: Vec<(u32, f32)>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            text: String::with_capacity(256),
            chars: Vec::with_capacity(32),
            words: Vec::with_capacity(32),
            word_buckets: Vec::with_capacity(96),
            char_buckets: Vec::with_capacity(768),
            dense: Vec::new(),
            features: Vec::with_capacity(864),
        }
    }
}

impl FeatureConfig {
    #[inline]
    fn bucket(&self, h: u64) -> u32 {
        let bits = self.hash_bits.clamp(1, 32) as u32;
        (fmix64(h) >> (64 - bits)) as u32
    }

    /// Extracts the features of `text` into `scratch.features` as `(bucket, value)` pairs.
    ///
    /// Values are `1 + ln(count)` per block, each block scaled to L2 norm
    /// `weight / sqrt(word_weight² + char_weight²)`, so a text with both blocks has norm 1.
    /// An empty or punctuation-only text has no features.
    #[cfg(test)]
    pub(crate) fn extract(&self, text: &str, scratch: &mut Scratch) {
        self.extract_with(text, None, scratch);
    }

    /// The bucket of the unigram feature of `word` (one normalised word).
    pub(crate) fn word_bucket(&self, word: &str) -> u32 {
        self.bucket(word_hash(word))
    }

    /// As [`FeatureConfig::word_bucket`], for a word given as its chars.
    pub(crate) fn word_bucket_of(&self, chars: &mut dyn Iterator<Item = char>) -> u32 {
        self.bucket(chars.fold(SEED_WORD, fnv1a_char))
    }

    /// Appends to `out` the buckets of the character n-grams of `word` (one normalised word,
    /// padded with a space on both sides), `chars` being a scratch buffer: what
    /// [`FeatureConfig::extract`] adds for each word of a text, nothing when character n-grams
    /// are off.
    pub(crate) fn char_buckets_of(&self, word: &str, chars: &mut Vec<char>, out: &mut Vec<u32>) {
        if self.char_max < self.char_min || self.char_max == 0 {
            return;
        }
        chars.clear();
        chars.push(' ');
        chars.extend(word.chars());
        chars.push(' ');
        let (lo, hi) = (self.char_min.max(1) as usize, self.char_max as usize);
        for start in 0..chars.len() {
            let mut h = SEED_CHAR;
            for (n, &c) in chars[start..].iter().take(hi).enumerate() {
                h = fnv1a_char(h, c);
                if n + 1 >= lo {
                    out.push(self.bucket(h ^ ((n as u64 + 1) << 56)));
                }
            }
        }
    }

    /// The first bucket of the dense block: `2^hash_bits`, past every hashed bucket (with
    /// `hash_bits` 32, `2^31`, which the dense features then share with hashed ones).
    pub(crate) fn dense_base(&self) -> u32 {
        1u32 << self.hash_bits.clamp(1, 31)
    }

    /// As [`FeatureConfig::extract`], then, with `vectors = Some((table, weight))`, the dense
    /// block: the text's sentence vector ([`SentenceEncoder::embed_normalized`], L2 norm 1) times `weight`,
    /// value `j` at bucket [`FeatureConfig::dense_base`] `+ j` (zeros left out). The hashed
    /// features keep their norm 1, so the dense block weighs `weight` against them.
    pub(crate) fn extract_with(&self, text: &str, vectors: Option<(&dyn SentenceEncoder, f32)>, scratch: &mut Scratch) {
        let mut norm = std::mem::take(&mut scratch.text);
        normalize_into(text, &mut norm);
        self.extract_normalized(&norm, vectors, None, scratch);
        scratch.text = norm;
    }

    /// As [`FeatureConfig::extract_with`] on a text already normalised
    /// ([`crate::text::normalize`], as [`crate::text::Utterance::normalized`] holds it).
    ///
    /// With `idf`, each hashed n-gram's `1 + ln(count)` is multiplied by `idf(bucket)` before
    /// its block is L2-normalised (TF-IDF: Sparck Jones, 1972, "A statistical interpretation
    /// of term specificity and its application in retrieval"; the sublinear, smoothed variant
    /// of scikit-learn's `TfidfVectorizer`), so n-grams that most examples share weigh less.
    pub(crate) fn extract_normalized(
        &self,
        norm: &str,
        vectors: Option<(&dyn SentenceEncoder, f32)>,
        idf: Option<&dyn Fn(u32) -> f32>,
        scratch: &mut Scratch,
    ) {
        let Scratch { text: _, chars, words, word_buckets, char_buckets, dense, features } = scratch;
        words.clear();
        word_buckets.clear();
        char_buckets.clear();
        features.clear();
        for word in norm.split(' ').filter(|w| !w.is_empty()) {
            let h = word_hash(word);
            words.push(h);
            word_buckets.push(self.bucket(h));
            self.char_buckets_of(word, chars, char_buckets);
        }
        if self.word_ngrams >= 2 && !words.is_empty() {
            let mut prev = BOUNDARY;
            for &w in words.iter().chain(std::iter::once(&BOUNDARY)) {
                let h = (SEED_BIGRAM ^ prev).wrapping_mul(FNV_PRIME) ^ w.rotate_left(29);
                word_buckets.push(self.bucket(h));
                prev = w;
            }
        }
        if self.word_ngrams >= 3 && words.len() >= 2 {
            let (mut a, mut b) = (BOUNDARY, BOUNDARY);
            for &w in words.iter().chain(std::iter::once(&BOUNDARY)) {
                let h = ((SEED_TRIGRAM ^ a).wrapping_mul(FNV_PRIME) ^ b.rotate_left(21)).wrapping_mul(FNV_PRIME)
                    ^ w.rotate_left(42);
                word_buckets.push(self.bucket(h));
                (a, b) = (b, w);
            }
        }
        let total = (self.word_weight * self.word_weight + self.char_weight * self.char_weight).sqrt();
        if total > 0.0 {
            push_block(word_buckets, self.word_weight / total, idf, features);
            push_block(char_buckets, self.char_weight / total, idf, features);
        }
        if let Some((table, weight)) = vectors.filter(|v| v.1 > 0.0) {
            dense.resize(table.dim(), 0.0);
            if table.embed_normalized(norm, dense) {
                let base = self.dense_base();
                for (j, &v) in dense.iter().enumerate() {
                    if v != 0.0 {
                        features.push((base.wrapping_add(j as u32), weight * v));
                    }
                }
            }
        }
    }
}

/// Appends one block: counts per bucket as `1 + ln(count)`, times `idf(bucket)` when given,
/// scaled to L2 norm `norm`.
fn push_block(buckets: &mut [u32], norm: f32, idf: Option<&dyn Fn(u32) -> f32>, out: &mut Vec<(u32, f32)>) {
    if buckets.is_empty() || norm <= 0.0 {
        return;
    }
    crate::sort::sort_u32(buckets);
    let start = out.len();
    let mut sum_sq = 0.0f32;
    let mut i = 0;
    while i < buckets.len() {
        let b = buckets[i];
        let mut j = i + 1;
        while j < buckets.len() && buckets[j] == b {
            j += 1;
        }
        // Most n-grams occur once, and ln(1) = 0 exactly: skip the logarithm, a library call
        // in WebAssembly.
        let tf = if j - i == 1 { 1.0 } else { 1.0 + ((j - i) as f32).ln() };
        let v = idf.map_or(tf, |idf| tf * idf(b));
        sum_sq += v * v;
        out.push((b, v));
        i = j;
    }
    let k = norm / sum_sq.sqrt();
    for f in &mut out[start..] {
        f.1 *= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feats(text: &str) -> Vec<(u32, f32)> {
        let mut s = Scratch::default();
        FeatureConfig::default().extract(text, &mut s);
        s.features
    }

    #[test]
    fn normalised_and_unit_norm() {
        let a = feats("¿Dónde está mi PEDIDO?");
        assert_eq!(a, feats("donde esta mi pedido"));
        let norm: f32 = a.iter().map(|f| f.1 * f.1).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert!(feats(" ?! ").is_empty());
    }

    #[test]
    fn word_ngram_orders_add_features() {
        let count = |word_ngrams| {
            let cfg = FeatureConfig { char_max: 0, word_ngrams, ..FeatureConfig::default() };
            let mut s = Scratch::default();
            cfg.extract("where is my order", &mut s);
            s.features.len()
        };
        // 4 words; 5 bigrams and 5 trigrams with the start and end markers.
        assert_eq!((count(1), count(2), count(3)), (4, 9, 14));
    }

    #[test]
    fn counts_are_sublinear() {
        let cfg = FeatureConfig { char_max: 0, word_ngrams: 1, ..FeatureConfig::default() };
        let mut s = Scratch::default();
        cfg.extract("hi hi hi you", &mut s);
        assert_eq!(s.features.len(), 2);
        let mut v: Vec<f32> = s.features.iter().map(|f| f.1).collect();
        v.sort_by(f32::total_cmp);
        assert!((v[1] / v[0] - (1.0 + 3f32.ln())).abs() < 1e-5);
    }
}
