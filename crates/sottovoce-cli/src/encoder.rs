//! The accuracy tier's sentence encoder for `sottovoce eval --encoder`: all-MiniLM-L6-v2
//! (`crates/sottovoce-encoder`) behind the core's [`SentenceEncoder`], with its embeddings kept
//! in a cache file beside the weights, so a second run over the same data embeds nothing.
//!
//! Cache file `embeddings-<hash>-corrected-erf32.bin` (one per weight variant: the hash, in hex, of
//! `model.safetensors` or of the `.sven` file made from it; little-endian):
//! records of `text_len u32 | text (UTF-8, normalised as the classifier reads it) | 384 × f32`.
//! A damaged or truncated file is read up to its last whole record.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;
use sottovoce::nlu::{fnv1a64, SentenceEncoder};
use sottovoce_encoder::{bot_file, BotEncoder, Budget, Encoder, DIM};

/// all-MiniLM-L6-v2 with a text → embedding cache.
pub(crate) struct CachedEncoder {
    inner: BotEncoder,
    cache: Mutex<HashMap<String, Vec<f32>>>,
    path: PathBuf,
    /// For a bot's copy: the bytes of its `.sven` file, raw and gzip.
    copy_sizes: Option<(usize, usize)>,
    /// For a bot's copy: the tokens its vocabulary keeps.
    kept_tokens: Option<usize>,
    /// Every embedding is multiplied by this ([`CachedEncoder::with_scale`]).
    scale: f32,
}

impl std::fmt::Debug for CachedEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedEncoder").field("hash", &format_args!("{:016x}", self.inner.hash())).field("cache", &self.path).finish()
    }
}

/// The bytes of `dir/model.safetensors` and `dir/tokenizer.json` (`make encoder-weights` puts
/// them in `target/encoder/all-MiniLM-L6-v2/`), read into the float encoder, and the FNV-1a 64
/// of the weights.
///
/// # Errors
/// A file that cannot be read, or weights that are not all-MiniLM-L6-v2's.
pub(crate) fn read_weights(dir: &Path) -> anyhow::Result<(Encoder, u64)> {
    let weights_path = dir.join("model.safetensors");
    let weights = std::fs::read(&weights_path)
        .with_context(|| format!("cannot read {} (run `make encoder-weights`)", weights_path.display()))?;
    let tokenizer_path = dir.join("tokenizer.json");
    let tokenizer = std::fs::read(&tokenizer_path).with_context(|| format!("cannot read {}", tokenizer_path.display()))?;
    let encoder = Encoder::new(&weights, &tokenizer).with_context(|| dir.display().to_string())?;
    Ok((encoder, fnv1a64(&weights)))
}

/// The most a bot's copy of the encoder (`.sven`) may weigh, in gzip bytes: issue 17's 12 MB
/// download for the accuracy tier (MB = 10^6 bytes, as the browser bench reports it) less the
/// encoder's wasm module and glue (109,996 + 1,775 bytes gzip, `make pkg` of 2026-12-05) and
/// 8 KB left for them to grow.
pub(crate) const COPY_BUDGET: usize = 11_880_000;

/// `bytes`, measured as a browser downloads the copy (gzip).
pub(crate) fn copy_budget(bytes: usize) -> Budget<'static> {
    Budget { bytes, size: &crate::gzip::gzip_len }
}

/// Which copy of the encoder a bot ships ([`bot_file`]): the first `first` token ids and the
/// tokens of `texts` (normalised; the bot's examples), within `budget` gzip bytes.
pub(crate) struct Copy<'a> {
    pub(crate) first: usize,
    pub(crate) budget: usize,
    pub(crate) texts: &'a [String],
}

impl CachedEncoder {
    /// The float encoder in `dir` ([`read_weights`]), or with `copy` the `.sven` file a bot
    /// would ship ([`bot_file`]): int8 weights, the vocabulary pruned as [`Copy`] says.
    /// Embeddings are cached in `dir`, in a file per variant (named by the hash of the weights or
    /// of the `.sven` file).
    ///
    /// # Errors
    /// As [`read_weights`].
    pub(crate) fn open(dir: &Path, copy: Option<Copy<'_>>) -> anyhow::Result<CachedEncoder> {
        let (encoder, source) = read_weights(dir)?;
        let (inner, copy_sizes, kept_tokens) = match copy {
            Some(Copy { first, budget, texts }) => {
                let (file, kept) = bot_file(encoder, source, first, texts, Some(copy_budget(budget)));
                let sizes = (file.len(), crate::gzip::gzip_len(&file));
                (BotEncoder::from_file(&file)?, Some(sizes), Some(kept))
            }
            None => (BotEncoder::new(encoder, source, source), None, None),
        };
        let path = dir.join(format!("embeddings-{:016x}-{CORRECTION}.bin", inner.hash()));
        let cache = std::fs::read(&path).map(|b| read_cache(&b)).unwrap_or_default();
        Ok(CachedEncoder { inner, cache: Mutex::new(cache), path, copy_sizes, kept_tokens, scale: 1.0 })
    }

    /// The encoder of a `.sven` file ([`BotEncoder::from_file`]), its embeddings cached in `dir`.
    ///
    /// # Errors
    /// When `file` is not a readable `.sven` file.
    pub(crate) fn from_file(file: &[u8], dir: &Path) -> anyhow::Result<CachedEncoder> {
        let inner = BotEncoder::from_file(file)?;
        let path = dir.join(format!("embeddings-{:016x}-{CORRECTION}.bin", inner.hash()));
        let cache = std::fs::read(&path).map(|b| read_cache(&b)).unwrap_or_default();
        Ok(CachedEncoder { inner, cache: Mutex::new(cache), path, copy_sizes: None, kept_tokens: None, scale: 1.0 })
    }

    /// Embeds every text of `normalized` not in the cache yet, on `threads` threads, and
    /// appends them to the cache file. Returns how many were embedded.
    ///
    /// # Errors
    /// When the cache file cannot be written.
    pub(crate) fn warm(&self, normalized: &[String], threads: usize) -> anyhow::Result<usize> {
        let missing: Vec<&String> = {
            let cache = self.cache.lock().expect("cache lock");
            let mut seen = std::collections::HashSet::new();
            normalized.iter().filter(|t| !cache.contains_key(*t) && seen.insert(*t)).collect()
        };
        if missing.is_empty() {
            return Ok(0);
        }
        let bar = crate::progress::bar(missing.len() as u64, "embedding (all-MiniLM-L6-v2)".into());
        let chunk = missing.len().div_ceil(threads.max(1));
        let done: Vec<(String, Vec<f32>)> = std::thread::scope(|s| {
            let handles: Vec<_> = missing
                .chunks(chunk)
                .map(|part| {
                    let bar = bar.clone();
                    s.spawn(move || {
                        part.iter()
                            .map(|t| {
                                bar.inc(1);
                                ((*t).clone(), self.inner.encoder().embed(&self.inner.input(t)))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("an embedding thread panicked")).collect()
        });
        bar.finish_and_clear();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        let mut out = Vec::new();
        for (text, e) in &done {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
            for v in e {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        file.write_all(&out).with_context(|| format!("cannot write {}", self.path.display()))?;
        let n = done.len();
        self.cache.lock().expect("cache lock").extend(done);
        Ok(n)
    }
}

impl CachedEncoder {
    /// Native time to embed each of `texts` without the cache, in ms per text: (p50, p99),
    /// what a message costs the accuracy tier on top of the classifier.
    pub(crate) fn time_uncached(&self, texts: &[&str]) -> (f64, f64) {
        let mut ms: Vec<f64> = texts
            .iter()
            .map(|t| {
                let started = std::time::Instant::now();
                std::hint::black_box(self.inner.encoder().embed(&self.inner.input(t)));
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms.get(((ms.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(0.0);
        (at(0.5), at(0.99))
    }

    /// Multiplies every embedding by `scale`, which weighs the block `scale` times its weight
    /// in the definition's table: how that weight was chosen on val (`eval --encoder-scale`).
    /// The embeddings are then no longer of norm 1, as the trait otherwise promises.
    pub(crate) fn with_scale(self, scale: f32) -> CachedEncoder {
        CachedEncoder { scale, ..self }
    }

    /// For a bot's copy, the size of its `.sven` file in bytes: (raw, gzip).
    pub(crate) fn copy_sizes(&self) -> Option<(usize, usize)> {
        self.copy_sizes
    }

    /// For a bot's copy, the number of tokens its vocabulary keeps.
    pub(crate) fn kept_tokens(&self) -> Option<usize> {
        self.kept_tokens
    }

    /// Size of the weights file read, in bytes.
    pub(crate) fn weights_bytes(&self) -> u64 {
        std::fs::metadata(self.path.with_file_name("model.safetensors")).map_or(0, |m| m.len())
    }
}

/// Which input the cache file holds (the typo-corrected text) and which forward pass made it
/// (`erf32`: GELU through the `f32` rational erf), so that embeddings of another preprocessing
/// or of an older forward pass are never mixed in.
const CORRECTION: &str = "corrected-erf32";

/// The records of a cache file, up to its last whole one.
fn read_cache(mut bytes: &[u8]) -> HashMap<String, Vec<f32>> {
    let mut out = HashMap::new();
    while bytes.len() >= 4 {
        let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let end = 4 + len + DIM * 4;
        if bytes.len() < end {
            break;
        }
        let Ok(text) = std::str::from_utf8(&bytes[4..4 + len]) else { break };
        let e = bytes[4 + len..end].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        out.insert(text.to_owned(), e);
        bytes = &bytes[end..];
    }
    out
}

impl SentenceEncoder for CachedEncoder {
    fn hash(&self) -> u64 {
        self.inner.hash()
    }

    fn source(&self) -> u64 {
        self.inner.source()
    }

    fn dim(&self) -> usize {
        DIM
    }

    fn embed_normalized(&self, normalized: &str, out: &mut [f32]) -> bool {
        let cached = self.cache.lock().expect("cache lock").get(normalized).cloned();
        let e = cached.unwrap_or_else(|| self.inner.encoder().embed(&self.inner.input(normalized)));
        out.copy_from_slice(&e);
        if self.scale != 1.0 {
            out.iter_mut().for_each(|v| *v *= self.scale);
        }
        e.iter().any(|&v| v != 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_file_reads_back_up_to_its_last_whole_record() {
        let mut bytes = Vec::new();
        for (text, v) in [("hello", 1.0f32), ("where is my order", -0.5)] {
            bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
            bytes.extend_from_slice(text.as_bytes());
            for _ in 0..DIM {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let whole = read_cache(&bytes);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole["where is my order"][DIM - 1], -0.5);
        let cut = read_cache(&bytes[..bytes.len() - 3]);
        assert_eq!(cut.keys().collect::<Vec<_>>(), vec!["hello"]);
    }
}
