//! Browser binding of the accuracy tier's sentence encoder: an [`Encoder`] class that reads a
//! bot's `.sven` copy of all-MiniLM-L6-v2 (written by `sottovoce build --encoder`) and embeds
//! messages. A module of its own (`pkg/sottovoce_encoder.js`, built with wasm simd128), loaded
//! only for a bot that needs it; the chat module calls it through
//! `WordVectors.fromEncoder(text => encoder.embed(text), encoder.hash(), encoder.source(),
//! encoder.dim())`. Like the other bindings it only translates.

use sottovoce::SentenceEncoder as _;
use sottovoce_encoder::BotEncoder;
use wasm_bindgen::prelude::*;

/// A bot's copy of the sentence encoder, ready to embed messages.
#[wasm_bindgen]
pub struct Encoder {
    inner: BotEncoder,
}

#[wasm_bindgen]
impl Encoder {
    /// Reads the `.sven` file in `bytes` (~13 MB for a CLINC150-size bot; the weights stay int8
    /// codes, a byte per weight: the module's wasm memory is then 27.4 MiB for that bot).
    ///
    /// # Errors
    /// When `bytes` is not a `.sven` file of the version this build reads, or is damaged.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> Result<Encoder, JsError> {
        Ok(Encoder { inner: BotEncoder::from_file(bytes)? })
    }

    /// FNV-1a 64 of the file (a `BigInt`): what a model trained with it records.
    pub fn hash(&self) -> u64 {
        self.inner.hash()
    }

    /// FNV-1a 64 of the `model.safetensors` the file was made from (a `BigInt`).
    pub fn source(&self) -> u64 {
        self.inner.source()
    }

    /// Length of every embedding (384).
    pub fn dim(&self) -> u32 {
        self.inner.dim() as u32
    }

    /// The L2-normalised sentence embedding (`dim()` values) of `normalized`, a message as the
    /// chat's classifier normalised it; all zeros for a text with nothing to embed. ~15 ms for
    /// a short message in Chromium.
    pub fn embed(&self, normalized: &str) -> Vec<f32> {
        let mut out = vec![0.0; self.inner.dim()];
        self.inner.embed_normalized(normalized, &mut out);
        out
    }
}
