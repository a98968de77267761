//! Static word vectors: a quantised table of one vector per WordPiece token, read from bytes,
//! and the sentence vector of a text (the L2-normalised mean of its tokens' rows).
//!
//! The table is distilled offline from a sentence-embedding model by
//! `scripts/distill-vectors.py` (Model2Vec's method: each token embedded alone, PCA, SIF
//! weighting folded into the rows; see docs/experiments/word-vectors.md), and written by its
//! `export` subcommand. The core reads no files: the caller passes the bytes.
//!
//! Format `SVVEC1`, little-endian:
//!
//! ```text
//! magic "SVVEC1" | rows u32 | d u16 | bits u8 (4 or 8) | token_bytes u32
//! | tokens: token_bytes of UTF-8, each row's token followed by "\n", in row order
//! | scales: rows × f16
//! | codes:  rows × ceil(d × bits / 8) bytes
//! ```
//!
//! Value `j` of a row is `scale × code_j`: 8-bit codes are `i8`; 4-bit codes are stored as
//! `code + 7` (0..=14), two per byte, the even dimension in the low nibble. The table stays
//! packed in memory (about the file's size plus the token index); rows are decoded as a text
//! is embedded.

use super::wordpiece::WordPiece;
use crate::text::fnv1a64;

/// First bytes of a vector table.
pub const VECTORS_MAGIC: &[u8; 6] = b"SVVEC1";

/// Words of at least this many letters that are not a whole vocabulary token are looked up
/// one edit away ([`WordPiece::correct`]) before they are split; shorter ones are too
/// ambiguous ("teh" is one edit from a dozen tokens).
const MIN_CORRECTED_BYTES: usize = 4;

/// Bytes before the token list: magic, rows, d, bits, token_bytes.
const HEADER: usize = 6 + 4 + 2 + 1 + 4;

/// Why a vector table could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VectorsError {
    /// The bytes do not start with [`VECTORS_MAGIC`].
    #[error("not a sottovoce vector table (it does not start with the SVVEC1 magic bytes)")]
    NotATable,
    /// The file ends before the part named.
    #[error("vector table is truncated: it ends inside the {0}")]
    Truncated(&'static str),
    /// The header names a code width other than 4 or 8 bits, or zero dimensions.
    #[error("vector table has {bits}-bit codes and {dim} dimensions; this sottovoce reads 4 or 8 bits and at least 1 dimension")]
    Unsupported {
        /// Bits per code in the header.
        bits: u8,
        /// Dimensions in the header.
        dim: u16,
    },
    /// The token list is not UTF-8 or does not hold one token per row.
    #[error("vector table token list is damaged: {0}")]
    Tokens(String),
    /// A row scale is not a finite number.
    #[error("vector table row {0} has a non-finite scale")]
    Scale(usize),
    /// Bytes are left after the codes.
    #[error("vector table has {0} bytes after its last row")]
    TrailingBytes(usize),
}

/// What turns a message into the dense block of the intent features: a static word-vector
/// table ([`StaticVectors`], the `word_vectors` opt-in the widget ships) or a contextual
/// sentence encoder the caller brings (the accuracy tier's all-MiniLM-L6-v2 in
/// `crates/sottovoce-encoder`), whose weights and inference stay out of the core.
///
/// A classifier trained with one records its [`SentenceEncoder::hash`] and
/// [`SentenceEncoder::dim`], and predicts only once the same one is attached
/// ([`super::IntentClassifier::attach_vectors`]).
pub trait SentenceEncoder: Send + Sync {
    /// Identifies the weights: FNV-1a 64 of the bytes they were read from.
    fn hash(&self) -> u64;
    /// Identifies what the weights were derived from, the hash a definition's `word_vectors`
    /// name stands for in [`crate::definition::WORD_VECTOR_TABLES`]: the same as
    /// [`SentenceEncoder::hash`] (the default) unless the weights are a rounded or pruned copy
    /// (the accuracy tier's `.sven` file, made from `model.safetensors` for one bot). Training
    /// checks this against the name; a trained classifier records [`SentenceEncoder::hash`].
    fn source(&self) -> u64 {
        self.hash()
    }
    /// Length of every embedding.
    fn dim(&self) -> usize;
    /// Writes the embedding of `normalized` (a message as [`normalize`] leaves it) into `out`
    /// (`dim()` values), scaled to L2 norm 1. Returns false, with `out` all zeros, when the
    /// text has nothing to embed.
    fn embed_normalized(&self, normalized: &str, out: &mut [f32]) -> bool;
}

/// What a classifier's `Debug` shows of its source: the hash and dimensions. Implemented on the
/// trait object rather than required of every encoder, so a build that never prints one (the
/// widget's) does not carry each encoder's `Debug` code in its vtable.
impl std::fmt::Debug for dyn SentenceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEncoder").field("hash", &format_args!("{:016x}", self.hash())).field("dim", &self.dim()).finish()
    }
}

impl SentenceEncoder for StaticVectors {
    fn hash(&self) -> u64 {
        StaticVectors::hash(self)
    }

    fn dim(&self) -> usize {
        StaticVectors::dim(self)
    }

    fn embed_normalized(&self, normalized: &str, out: &mut [f32]) -> bool {
        StaticVectors::embed_normalized(self, normalized, &mut Vec::new(), out)
    }
}

/// A static word-vector table (see the module docs for the format).
///
/// Compare tables by [`StaticVectors::hash`]: two tables with the same hash are the same bytes.
#[derive(Clone)]
pub struct StaticVectors {
    dim: usize,
    bits: u8,
    row_bytes: usize,
    scales: Vec<f32>,
    codes: Vec<u8>,
    vocab: WordPiece,
    hash: u64,
    byte_len: usize,
}

impl std::fmt::Debug for StaticVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticVectors")
            .field("rows", &self.scales.len())
            .field("dim", &self.dim)
            .field("bits", &self.bits)
            .field("hash", &format_args!("{:016x}", self.hash))
            .finish()
    }
}

impl PartialEq for StaticVectors {
    fn eq(&self, other: &StaticVectors) -> bool {
        self.hash == other.hash && self.byte_len == other.byte_len
    }
}

/// IEEE 754 half precision to single precision (exact for every value).
fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f32::from(h & 0x3ff);
    match exp {
        0 => sign * frac * (1.0 / 16_777_216.0), // subnormal: frac × 2^-24
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        _ => sign * (1.0 + frac / 1024.0) * f32::powi(2.0, exp - 15),
    }
}

/// Reads `n` bytes at `*at`, advancing it.
fn take<'a>(bytes: &'a [u8], at: &mut usize, n: usize, what: &'static str) -> Result<&'a [u8], VectorsError> {
    let end = at.checked_add(n).filter(|&e| e <= bytes.len()).ok_or(VectorsError::Truncated(what))?;
    let out = &bytes[*at..end];
    *at = end;
    Ok(out)
}

impl StaticVectors {
    /// Reads a table in the `SVVEC1` format.
    ///
    /// ```
    /// use sottovoce::nlu::StaticVectors;
    /// let mut bytes = b"SVVEC1".to_vec();
    /// bytes.extend(2u32.to_le_bytes()); // rows
    /// bytes.extend(2u16.to_le_bytes()); // d
    /// bytes.push(8); // bits
    /// bytes.extend(10u32.to_le_bytes()); // token bytes
    /// bytes.extend(b"refund\nhi\n");
    /// bytes.extend([0x00, 0x3c, 0x00, 0x3c]); // scales 1.0, 1.0 (f16)
    /// bytes.extend([3, 4, 0, 0xff]); // rows [3, 4] and [0, -1]
    /// let v = StaticVectors::from_bytes(&bytes).unwrap();
    /// assert_eq!((v.rows(), v.dim()), (2, 2));
    /// let e = v.embed("Refund!");
    /// assert!((e[0] - 0.6).abs() < 1e-6 && (e[1] - 0.8).abs() < 1e-6);
    /// ```
    ///
    /// # Errors
    /// [`VectorsError`] naming what is wrong: not a table, truncated, unsupported code width,
    /// a token list that does not match the row count, a non-finite scale, trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<StaticVectors, VectorsError> {
        if !bytes.starts_with(VECTORS_MAGIC) {
            return Err(VectorsError::NotATable);
        }
        let mut at = VECTORS_MAGIC.len();
        let header = take(bytes, &mut at, HEADER - VECTORS_MAGIC.len(), "header")?;
        let rows = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let dim = u16::from_le_bytes([header[4], header[5]]);
        let bits = header[6];
        let token_bytes = u32::from_le_bytes([header[7], header[8], header[9], header[10]]) as usize;
        if !matches!(bits, 4 | 8) || dim == 0 {
            return Err(VectorsError::Unsupported { bits, dim });
        }
        let dim = usize::from(dim);
        let text = take(bytes, &mut at, token_bytes, "token list")?;
        let text = std::str::from_utf8(text).map_err(|e| VectorsError::Tokens(format!("not UTF-8 ({e})")))?;
        let Some(text) = text.strip_suffix('\n').or((rows == 0 && text.is_empty()).then_some("")) else {
            return Err(VectorsError::Tokens("the last token is not followed by a newline".into()));
        };
        let tokens: Vec<&str> = if rows == 0 { Vec::new() } else { text.split('\n').collect() };
        if tokens.len() != rows {
            return Err(VectorsError::Tokens(format!("{} tokens for {rows} rows", tokens.len())));
        }
        let scale_bytes = take(bytes, &mut at, rows * 2, "row scales")?;
        let mut scales = Vec::with_capacity(rows);
        for (row, pair) in scale_bytes.chunks_exact(2).enumerate() {
            let s = f16_to_f32(u16::from_le_bytes([pair[0], pair[1]]));
            if !s.is_finite() {
                return Err(VectorsError::Scale(row));
            }
            scales.push(s);
        }
        let row_bytes = (dim * usize::from(bits)).div_ceil(8);
        let codes = take(bytes, &mut at, rows * row_bytes, "codes")?.to_vec();
        if at != bytes.len() {
            return Err(VectorsError::TrailingBytes(bytes.len() - at));
        }
        Ok(StaticVectors {
            dim,
            bits,
            row_bytes,
            scales,
            codes,
            vocab: WordPiece::new(tokens),
            hash: fnv1a64(bytes),
            byte_len: bytes.len(),
        })
    }

    /// Dimensions of a vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of rows (tokens).
    pub fn rows(&self) -> usize {
        self.scales.len()
    }

    /// FNV-1a 64 of the bytes the table was read from: what a model trained with it records.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Size of the bytes the table was read from.
    pub fn byte_len(&self) -> usize {
        self.byte_len
    }

    /// The sentence vector of `text`: normalised as the classifier normalises it
    /// ([`normalize`](crate::text::normalize)), split into WordPiece tokens (a word of 4+ ASCII letters
    /// that is no whole token but one edit from one takes that token, as a typo would), the
    /// mean of their rows,
    /// scaled to L2 norm 1. `dim()` values; all zeros when no token has a non-zero row.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        let mut out = vec![0.0; self.dim];
        self.embed_normalized(&crate::text::normalize(text), &mut Vec::new(), &mut out);
        out
    }

    /// As [`StaticVectors::embed`] for text already normalised, into `out` (length `dim()`),
    /// using `tokens` as scratch. Returns false (and zeros) when there is nothing to embed.
    pub(crate) fn embed_normalized(&self, normalized: &str, tokens: &mut Vec<u32>, out: &mut [f32]) -> bool {
        out.fill(0.0);
        tokens.clear();
        let mut scratch = Vec::new();
        for word in normalized.split(' ') {
            // A misspelt word would split into pieces unrelated to it ("cancle" = "can" +
            // "##cle"): the whole token one edit away stands in for it (docs/experiments/
            // word-vectors.md, "Typos": CLINC150 val typo drop 1.80 -> 1.30 points).
            if word.len() >= MIN_CORRECTED_BYTES && self.vocab.whole(word).is_none() {
                if let Some(row) = self.vocab.correct(word, &mut scratch) {
                    tokens.push(row);
                    continue;
                }
            }
            self.vocab.tokenize_word(word, tokens);
        }
        for &row in tokens.iter() {
            self.add_row(row as usize, out);
        }
        let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 && norm.is_finite() {
            let k = 1.0 / norm;
            out.iter_mut().for_each(|v| *v *= k);
            true
        } else {
            out.fill(0.0);
            false
        }
    }

    /// Adds row `row`'s values to `out`.
    fn add_row(&self, row: usize, out: &mut [f32]) {
        let Some(&s) = self.scales.get(row) else { return };
        let codes = &self.codes[row * self.row_bytes..][..self.row_bytes];
        if self.bits == 8 {
            for (o, &c) in out.iter_mut().zip(codes) {
                *o += s * f32::from(c as i8);
            }
        } else {
            let mut pairs = out.chunks_mut(2);
            for (pair, &c) in (&mut pairs).zip(codes) {
                pair[0] += s * (f32::from(c & 0x0f) - 7.0);
                if let Some(o) = pair.get_mut(1) {
                    *o += s * (f32::from(c >> 4) - 7.0);
                }
            }
        }
    }
}

/// A table in the `SVVEC1` format with every row scale 0.5, built the way the export script
/// builds it (codes in -7..=7 for 4 bits), for tests.
#[cfg(test)]
pub(crate) fn table(tokens: &[&str], rows: &[Vec<i8>], bits: u8) -> Vec<u8> {
    let dim = rows.first().map_or(1, Vec::len);
    let text: String = tokens.iter().map(|t| format!("{t}\n")).collect();
    let mut out = VECTORS_MAGIC.to_vec();
    out.extend((tokens.len() as u32).to_le_bytes());
    out.extend((dim as u16).to_le_bytes());
    out.push(bits);
    out.extend((text.len() as u32).to_le_bytes());
    out.extend(text.as_bytes());
    for _ in rows {
        out.extend([0x00, 0x38]); // 0.5 in f16
    }
    for row in rows {
        if bits == 8 {
            out.extend(row.iter().map(|&c| c as u8));
        } else {
            for pair in row.chunks(2) {
                let hi = pair.get(1).map_or(7, |&c| (c + 7) as u8);
                out.push((pair[0] + 7) as u8 | (hi << 4));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_decodes_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite() && f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn four_and_eight_bit_tables_embed_alike() {
        let tokens = ["[UNK]", "cancel", "##lation", "order"];
        let rows = vec![vec![0, 0, 1], vec![2, -3, 7], vec![-7, 1, 0], vec![1, 1, 1]];
        for bits in [4, 8] {
            let v = StaticVectors::from_bytes(&table(&tokens, &rows, bits)).unwrap();
            assert_eq!((v.rows(), v.dim()), (4, 3));
            // "cancellation" = cancel + ##lation: (2-7, -3+1, 7+0) = (-5, -2, 7), normalised.
            let e = v.embed("Cancellation?");
            let n = (25.0f32 + 4.0 + 49.0).sqrt();
            for (a, b) in e.iter().zip([-5.0 / n, -2.0 / n, 7.0 / n]) {
                assert!((a - b).abs() < 1e-6, "{bits} bits: {e:?}");
            }
            assert_eq!(v.embed("xyz"), vec![0.0, 0.0, 1.0], "unknown word -> [UNK]'s row");
            assert_eq!(v.embed("!?"), vec![0.0; 3]);
        }
    }

    #[test]
    fn a_word_one_edit_from_a_whole_token_takes_its_row() {
        let tokens = ["[UNK]", "cancel", "can", "##cle", "order", "orders", "##s"];
        let rows = vec![vec![0, 1], vec![7, 0], vec![0, 7], vec![-7, 0], vec![1, 1], vec![1, -1], vec![0, 3]];
        let v = StaticVectors::from_bytes(&table(&tokens, &rows, 8)).unwrap();
        // Swapped, dropped, doubled and replaced letters all reach "cancel".
        for typo in ["cancle", "cancl", "canccel", "cancek"] {
            assert_eq!(v.embed(typo), vec![1.0, 0.0], "{typo}");
        }
        // Several tokens one edit away: the lowest row ("order" before "orders").
        assert_eq!(v.embed("ordes"), v.embed("order"));
        // Short words and whole tokens are not corrected.
        assert_eq!(v.embed("cle"), vec![0.0, 1.0], "[UNK]'s row");
        assert_ne!(v.embed("orders"), v.embed("order"));
    }

    #[test]
    fn hash_identifies_the_bytes() {
        let a = table(&["a"], &[vec![1, 2]], 8);
        let mut b = a.clone();
        *b.last_mut().unwrap() = 3;
        let (va, vb) = (StaticVectors::from_bytes(&a).unwrap(), StaticVectors::from_bytes(&b).unwrap());
        assert_ne!(va.hash(), vb.hash());
        assert_ne!(va, vb);
        assert_eq!(va.hash(), fnv1a64(&a));
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 test vector");
    }

    #[test]
    fn damaged_tables_are_typed_errors() {
        let good = table(&["a", "b"], &[vec![1, 2], vec![3, 4]], 4);
        assert!(StaticVectors::from_bytes(&good).is_ok());
        assert_eq!(StaticVectors::from_bytes(b"SVM\0xx").unwrap_err(), VectorsError::NotATable);
        assert_eq!(StaticVectors::from_bytes(&good[..10]).unwrap_err(), VectorsError::Truncated("header"));
        assert_eq!(StaticVectors::from_bytes(&good[..HEADER + 2]).unwrap_err(), VectorsError::Truncated("token list"));
        assert_eq!(StaticVectors::from_bytes(&good[..good.len() - 1]).unwrap_err(), VectorsError::Truncated("codes"));
        let mut long = good.clone();
        long.push(0);
        assert_eq!(StaticVectors::from_bytes(&long).unwrap_err(), VectorsError::TrailingBytes(1));
        let mut bits = good.clone();
        bits[12] = 5;
        assert!(matches!(StaticVectors::from_bytes(&bits), Err(VectorsError::Unsupported { bits: 5, dim: 2 })));
        let mut rows = good.clone();
        rows[6] = 3;
        assert!(matches!(StaticVectors::from_bytes(&rows), Err(VectorsError::Tokens(m)) if m.contains("2 tokens for 3 rows")));
        let mut scale = good.clone();
        scale[HEADER + 4..HEADER + 6].copy_from_slice(&0x7c00u16.to_le_bytes());
        assert_eq!(StaticVectors::from_bytes(&scale).unwrap_err(), VectorsError::Scale(0));
    }
}
