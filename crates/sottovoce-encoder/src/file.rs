//! The `.sven` file: an encoder's int8 weights and pruned vocabulary, what the widget downloads.
//!
//! Layout (version 1, little-endian): the magic `SVEN`, a `u16` version, the FNV-1a 64 of the
//! `model.safetensors` the weights were rounded from (`u64`), the vocabulary size (`u32`) and
//! its tokens in id order, each followed by `\n` (a token the pruned vocabulary dropped is
//! empty). Then every matrix as its rows' 8-bit codes followed by one `f32` scale per row
//! (weight = code × scale; [`crate::Encoder::quantize_int8`]): the token embeddings of the kept
//! tokens only, in id order; the position embeddings of the first [`MAX_TOKENS`] positions; for
//! each of the 6 layers the query, key,
//! value, attention output, feed-forward in and out maps. Then every vector as `f32`: the
//! token-type row, the embedding layer norm (weight, bias), and per layer the six maps' biases
//! and the two layer norms (weight, bias). Codes and scales sit apart so gzip sees runs of
//! bytes of one kind.
//!
//! Loading keeps the codes as codes (a byte per weight in memory); the forward pass turns each
//! row into `f32` as it reads it, so a loaded encoder embeds exactly as the float encoder did
//! after [`crate::Encoder::quantize_int8`].

use crate::{Encoder, EncoderError, Layer, LayerNorm, Linear, Matrix, WordPiece, DIM, FFN, LAYERS, MAX_TOKENS};

/// First bytes of every `.sven` file.
pub const MAGIC: &[u8; 4] = b"SVEN";
/// The `.sven` version this build reads and writes.
pub const VERSION: u16 = 1;
/// Rows of the position embedding table stored: the positions an input of at most
/// [`MAX_TOKENS`] reaches (the model has 512).
const POSITIONS: usize = MAX_TOKENS;

impl Encoder {
    /// The `.sven` file of this encoder (layout in the module docs): its weights rounded to
    /// 8-bit codes with a scale per row, only the token embeddings of the tokens its
    /// vocabulary keeps ([`Encoder::retain_tokens`]), and `source`, the FNV-1a 64 of the
    /// `model.safetensors` it was read from. The encoder is left as it is: call
    /// [`Encoder::quantize_int8`] first for one that embeds as the file's reader will.
    pub fn to_file(&self, source: u64) -> Vec<u8> {
        let tokens = self.tokenizer.tokens();
        let mut out = Vec::with_capacity(8 << 20);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&source.to_le_bytes());
        out.extend_from_slice(&(tokens.len() as u32).to_le_bytes());
        for t in &tokens {
            out.extend_from_slice(t.as_bytes());
            out.push(b'\n');
        }
        // The rows of the tokens the vocabulary keeps, in id order.
        let kept: Vec<usize> = self
            .word_row
            .iter()
            .zip(&tokens)
            .filter(|(&row, t)| row != crate::NO_ROW && !t.is_empty())
            .map(|(&row, _)| row as usize)
            .collect();
        write_int8(&mut out, &self.word, &kept);
        write_int8(&mut out, &self.position, &(0..POSITIONS).collect::<Vec<_>>());
        for layer in &self.layers {
            for linear in layer.linears() {
                write_int8(&mut out, &linear.w, &(0..linear.out).collect::<Vec<_>>());
            }
        }
        write_f32(&mut out, &self.token_type0);
        write_f32(&mut out, &self.emb_ln.w);
        write_f32(&mut out, &self.emb_ln.b);
        for layer in &self.layers {
            for linear in layer.linears() {
                write_f32(&mut out, &linear.b);
            }
            for ln in [&layer.attn_ln, &layer.out_ln] {
                write_f32(&mut out, &ln.w);
                write_f32(&mut out, &ln.b);
            }
        }
        out
    }

    /// Reads a `.sven` file ([`Encoder::to_file`]). Returns the encoder and the FNV-1a 64 of
    /// the `model.safetensors` it was rounded from. The weights stay int8 in memory, a byte per
    /// weight plus a 4-byte scale per row (~13 MB with 5,560 tokens kept: 10.6 M weights in the
    /// layers, 2.1 M in the kept token embeddings), plus a 4-byte row index per token id.
    ///
    /// # Errors
    /// [`EncoderError::File`] when `bytes` is not a `.sven` file of [`VERSION`], is truncated or
    /// has bytes left over.
    pub fn from_file(bytes: &[u8]) -> Result<(Encoder, u64), EncoderError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(EncoderError::File("not a .sven file (no SVEN magic)".into()));
        }
        let version = u16::from_le_bytes(r.array()?);
        if version != VERSION {
            return Err(EncoderError::File(format!("version {version}, this build reads {VERSION} (rebuild it with `sottovoce build`)")));
        }
        let source = u64::from_le_bytes(r.array()?);
        let n = u32::from_le_bytes(r.array()?) as usize;
        let mut tokens = Vec::with_capacity(n);
        for _ in 0..n {
            let line = r.line()?;
            tokens.push(std::str::from_utf8(line).map_err(|_| EncoderError::File("a token is not UTF-8".into()))?);
        }
        let tokenizer = WordPiece::from_tokens(&tokens)?;
        let kept = tokens.iter().filter(|t| !t.is_empty()).count();
        let word = r.int8(kept, DIM)?;
        let mut word_row = vec![crate::NO_ROW; n];
        let mut next = 0u32;
        for (id, t) in tokens.iter().enumerate() {
            if !t.is_empty() {
                word_row[id] = next;
                next += 1;
            }
        }
        let position = r.int8(POSITIONS, DIM)?;
        let mut weights = Vec::with_capacity(LAYERS * 6);
        for _ in 0..LAYERS {
            for (out, inp) in Layer::SHAPES {
                weights.push(r.int8(out, inp)?);
            }
        }
        let token_type0 = r.f32(DIM)?;
        let emb_ln = LayerNorm { w: r.f32(DIM)?, b: r.f32(DIM)? };
        let mut weights = weights.into_iter();
        let mut layers = Vec::with_capacity(LAYERS);
        for _ in 0..LAYERS {
            let mut linears = Vec::with_capacity(6);
            for (out, inp) in Layer::SHAPES {
                linears.push(Linear { w: weights.next().expect("six maps per layer"), b: r.f32(out)?, out, inp });
            }
            let attn_ln = LayerNorm { w: r.f32(DIM)?, b: r.f32(DIM)? };
            let out_ln = LayerNorm { w: r.f32(DIM)?, b: r.f32(DIM)? };
            let mut l = linears.into_iter();
            let mut next = || l.next().expect("six maps");
            layers.push(Layer {
                q: next(),
                k: next(),
                v: next(),
                attn_out: next(),
                ffn_in: next(),
                ffn_out: next(),
                attn_ln,
                out_ln,
            });
        }
        if r.at != bytes.len() {
            return Err(EncoderError::File(format!("{} bytes left over after the last vector", bytes.len() - r.at)));
        }
        Ok((Encoder { tokenizer, word, word_row, position, token_type0, emb_ln, layers }, source))
    }
}

impl Layer {
    /// `(out, in)` of the six linear maps, in [`Layer::linears`] order.
    const SHAPES: [(usize, usize); 6] = [(DIM, DIM), (DIM, DIM), (DIM, DIM), (DIM, DIM), (FFN, DIM), (DIM, FFN)];

    /// The six linear maps: query, key, value, attention output, feed-forward in, out.
    fn linears(&self) -> [&Linear; 6] {
        [&self.q, &self.k, &self.v, &self.attn_out, &self.ffn_in, &self.ffn_out]
    }
}

/// Appends rows `rows` of `w` as 8-bit codes, then their scales: for an `f32` matrix each row's
/// largest magnitude / 127, as [`Encoder::quantize_int8`] rounds them; an int8 matrix's own.
fn write_int8(out: &mut Vec<u8>, w: &Matrix, rows: &[usize]) {
    let mut scales = Vec::with_capacity(rows.len() * 4);
    let mut buf = Vec::new();
    for &r in rows {
        match w {
            Matrix::I8 { codes, scales: s, cols } => {
                out.extend(codes[r * cols..(r + 1) * cols].iter().map(|&q| q as u8));
                scales.extend_from_slice(&s[r].to_le_bytes());
            }
            Matrix::F32 { .. } => {
                let row = w.row(r, &mut buf);
                let scale = crate::row_scale(row);
                out.extend(row.iter().map(|&v| crate::int8_code(v, scale) as u8));
                scales.extend_from_slice(&scale.to_le_bytes());
            }
        }
    }
    out.extend_from_slice(&scales);
}

fn write_f32(out: &mut Vec<u8>, v: &[f32]) {
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EncoderError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| EncoderError::File(format!("truncated at byte {} of {}", self.bytes.len(), self.at + n)))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EncoderError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn line(&mut self) -> Result<&'a [u8], EncoderError> {
        let rest = &self.bytes[self.at..];
        let end = rest.iter().position(|&b| b == b'\n').ok_or_else(|| EncoderError::File("the token list is truncated".into()))?;
        self.at += end + 1;
        Ok(&rest[..end])
    }

    /// `rows` rows of `cols` codes, then their scales, kept as codes ([`Matrix::I8`]).
    fn int8(&mut self, rows: usize, cols: usize) -> Result<Matrix, EncoderError> {
        let codes = self.take(rows * cols)?.iter().map(|&c| c as i8).collect();
        let scales = self.take(rows * 4)?.chunks_exact(4).map(|s| f32::from_le_bytes(s.try_into().expect("4 bytes"))).collect();
        Ok(Matrix::I8 { codes, scales, cols })
    }

    fn f32(&mut self, n: usize) -> Result<Vec<f32>, EncoderError> {
        Ok(self.take(n * 4)?.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn encoder() -> Encoder {
        encoder_with(&["[PAD]", "[UNK]", "[CLS]", "[SEP]", "refund", "order", "##s", "where"])
    }

    /// An encoder of all-MiniLM-L6-v2's shapes with pseudo-random weights (SplitMix64) and the
    /// vocabulary `tokens` (in id order; `[CLS]`, `[SEP]` and `[UNK]` among them).
    pub(crate) fn encoder_with(tokens: &[&str]) -> Encoder {
        let mut state = 7u64;
        let mut random = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                    ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 * 2.0 * scale - scale
                })
                .collect()
        };
        let ln = |random: &mut dyn FnMut(usize, f32) -> Vec<f32>| LayerNorm {
            w: random(DIM, 0.1).into_iter().map(|v| v + 1.0).collect(),
            b: random(DIM, 0.1),
        };
        let emb_ln = ln(&mut random);
        let layers = (0..LAYERS)
            .map(|_| {
                let mut lin = |(out, inp): (usize, usize)| Linear { w: Matrix::F32 { w: random(out * inp, 0.08), cols: inp }, b: random(out, 0.02), out, inp };
                let [q, k, v, attn_out, ffn_in, ffn_out] = Layer::SHAPES.map(&mut lin);
                Layer { q, k, v, attn_out, ffn_in, ffn_out, attn_ln: ln(&mut random), out_ln: ln(&mut random) }
            })
            .collect();
        Encoder {
            tokenizer: WordPiece::from_tokens(tokens).unwrap(),
            word: Matrix::F32 { w: random(tokens.len() * DIM, 1.0), cols: DIM },
            word_row: (0..tokens.len() as u32).collect(),
            position: Matrix::F32 { w: random(512 * DIM, 0.5), cols: DIM },
            token_type0: random(DIM, 0.1),
            emb_ln,
            layers,
        }
    }

    #[test]
    fn a_file_reads_back_into_an_encoder_that_embeds_as_the_rounded_one() {
        let mut original = encoder();
        original.retain_tokens(|id| id != 5);
        original.quantize_int8();
        let bytes = original.to_file(0xfeed);
        let (back, source) = Encoder::from_file(&bytes).unwrap();
        assert_eq!(source, 0xfeed);
        assert_eq!(back.tokenizer().tokens(), original.tokenizer().tokens());
        for text in ["where are my refunds", "order", "where is my order"] {
            assert_eq!(back.embed(text), original.embed(text), "{text:?}");
        }
        // The dropped token's row is not stored: 7 of 8 rows.
        let params = 7 * DIM + POSITIONS * DIM + LAYERS * (4 * DIM * DIM + 2 * DIM * FFN);
        let rows = 7 + POSITIONS + LAYERS * (5 * DIM + FFN);
        assert!(bytes.len() > params + 4 * rows && bytes.len() < params + 4 * rows + 200_000, "{}", bytes.len());
    }

    #[test]
    fn a_read_copy_keeps_its_weights_as_codes_and_only_the_kept_tokens_rows() {
        let mut original = encoder();
        original.retain_tokens(|id| id != 5 && id != 6);
        let (back, _) = Encoder::from_file(&original.to_file(1)).unwrap();
        assert!(matches!(back.word, Matrix::I8 { .. }) && matches!(back.position, Matrix::I8 { .. }));
        assert!(back.layers.iter().flat_map(Layer::linears).all(|l| matches!(l.w, Matrix::I8 { .. })));
        assert_eq!(back.word.rows(), 6, "8 tokens, 2 dropped");
        assert_eq!(back.word_row[5], crate::NO_ROW);
        assert_eq!(back.word_row[7], 5);
    }

    #[test]
    fn a_damaged_file_is_refused_with_what_is_wrong() {
        let bytes = encoder().to_file(1);
        let message = |b: &[u8]| Encoder::from_file(b).err().expect("refused").to_string();
        assert!(message(b"SVVEC1").contains("no SVEN magic"));
        let mut other = bytes.clone();
        other[4] = 9;
        assert!(message(&other).contains("version 9"), "{}", message(&other));
        assert!(message(&bytes[..bytes.len() - 3]).contains("truncated"));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(message(&longer).contains("1 bytes left over"));
        assert!(message(&bytes[..20]).contains("token list is truncated"), "{}", message(&bytes[..20]));
    }
}
