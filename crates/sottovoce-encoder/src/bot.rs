//! The encoder as the core's dense-block source: `sottovoce::nlu::SentenceEncoder` for the
//! bots whose definition's `word_vectors` is `all-minilm-l6-v2` (feature `core`).

use sottovoce::{fnv1a64, SentenceEncoder};

use crate::{Encoder, EncoderError, DIM};

/// all-MiniLM-L6-v2 behind [`SentenceEncoder`], reading the classifier's normalised text after
/// a typo correction of its words ([`BotEncoder::input`]).
pub struct BotEncoder {
    encoder: Encoder,
    /// The encoder's vocabulary in the core's whole-word index, for the typo correction.
    vocab: sottovoce::WordPiece,
    tokens: Vec<String>,
    hash: u64,
    source: u64,
}

impl BotEncoder {
    /// Wraps `encoder`, identified by `hash` (FNV-1a 64 of the bytes it was read from) and made
    /// from the weights whose hash is `source` (the same for `model.safetensors` itself).
    pub fn new(encoder: Encoder, hash: u64, source: u64) -> BotEncoder {
        let tokens: Vec<String> = encoder.tokenizer().tokens().into_iter().map(str::to_owned).collect();
        let vocab = sottovoce::WordPiece::new(tokens.iter().map(String::as_str));
        BotEncoder { encoder, vocab, tokens, hash, source }
    }

    /// Reads a `.sven` file ([`Encoder::from_file`]); its hash is the FNV-1a 64 of `bytes`.
    ///
    /// # Errors
    /// As [`Encoder::from_file`].
    pub fn from_file(bytes: &[u8]) -> Result<BotEncoder, EncoderError> {
        let (encoder, source) = Encoder::from_file(bytes)?;
        Ok(BotEncoder::new(encoder, fnv1a64(bytes), source))
    }

    /// The wrapped encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// What the encoder reads for `normalized`: each word of at least 4 letters that is no
    /// whole vocabulary token replaced by the whole token one edit away, if there is one, as
    /// the static word vectors do (`StaticVectors::embed`): a misspelt word would otherwise
    /// split into pieces unrelated to it ("cancle" = "can" + "##cle"). Measured on CLINC150 val
    /// (`sottovoce eval --test val.jsonl`): in-scope 96.40 -> 96.37 % clean, 93.20 -> 94.67 %
    /// with 10 % of words typo-noised.
    pub fn input(&self, normalized: &str) -> String {
        let mut scratch = Vec::new();
        let words: Vec<&str> = normalized
            .split(' ')
            .map(|w| {
                if w.len() >= 4 && self.vocab.whole(w).is_none() {
                    if let Some(row) = self.vocab.correct(w, &mut scratch) {
                        return self.tokens[row as usize].as_str();
                    }
                }
                w
            })
            .collect();
        words.join(" ")
    }
}

impl SentenceEncoder for BotEncoder {
    fn hash(&self) -> u64 {
        self.hash
    }

    fn source(&self) -> u64 {
        self.source
    }

    fn dim(&self) -> usize {
        DIM
    }

    fn embed_normalized(&self, normalized: &str, out: &mut [f32]) -> bool {
        let e = self.encoder.embed(&self.input(normalized));
        out.copy_from_slice(&e);
        e.iter().any(|&v| v != 0.0)
    }
}

/// The token ids a bot's `.sven` file keeps besides its examples' tokens ([`bot_file`]).
/// Chosen on CLINC150 val (`sottovoce eval --encoder DIR --encoder-vocab N`, in-scope): 96.37 %
/// with float weights and the whole vocabulary (`--encoder-float`), 96.20 % for N = 3000 (5,560
/// tokens kept, a copy of 11.87 MB gzip), 96.07 % for N = 2500 (5,430 tokens, 48 KB less); the
/// int8 weights of all 30,522 tokens would be 20.8 MB gzip.
pub const FIRST_TOKENS: usize = 3000;

/// A limit on the size of a bot's `.sven` file ([`bot_file`]): `bytes` as measured by `size`
/// (the CLI passes its gzip length: what a browser downloads).
pub struct Budget<'a> {
    /// The most the file may measure.
    pub bytes: usize,
    /// How a file is measured, in bytes.
    pub size: &'a dyn Fn(&[u8]) -> usize,
}

/// About what one kept token adds to a `.sven` file, gzipped or not (bytes): its int8 row of
/// [`DIM`] codes, which barely compress, its row scale and its text. Only a first guess of how
/// many tokens to drop: [`bot_file`] measures each try.
const TOKEN_BYTES: usize = DIM + 6;

/// The `.sven` file of `encoder` for one bot ([`Encoder::to_file`]): the vocabulary pruned to
/// its first `first` token ids (the special tokens and the most frequent pieces of BERT's
/// vocabulary, but BERT's `[unused…]` placeholders and the characters of scripts `texts` do
/// not use) plus the tokens of `texts` (the bot's examples, normalised as the classifier
/// reads them, after [`BotEncoder::input`]'s typo correction), the weights rounded to int8.
/// `source` is the FNV-1a 64 of the `model.safetensors` `encoder` was read from. Returns the
/// file and the number of tokens it keeps.
///
/// With a `budget`, the examples' tokens that are not among the first are kept in order of
/// how many examples use them (ties by id) until the file fits: a word only one example uses
/// (in SNIPS, most are names of songs, artists and places) then reads as the common pieces it
/// splits into. The first tokens are always kept, so a budget under their size is exceeded.
///
/// `sottovoce build --encoder` keeps [`FIRST_TOKENS`], within the CLI's download budget.
pub fn bot_file(encoder: Encoder, source: u64, first: usize, texts: &[String], budget: Option<Budget<'_>>) -> (Vec<u8>, usize) {
    let whole = BotEncoder::new(encoder, source, source);
    // The scripts the bot's examples are written in: a first token is kept only in those
    // (BERT's first ids hold single characters of every script: a Latin bot needs no kana).
    let scripts: std::collections::HashSet<u32> = texts.iter().flat_map(|t| t.chars()).map(script_block).collect();
    // BERT's `[unused…]` placeholders (ids 1-993) are never produced by the tokenizer.
    let firsts: std::collections::HashSet<u32> = whole
        .tokens
        .iter()
        .take(first)
        .enumerate()
        .filter(|(_, t)| !t.starts_with("[unused") && t.trim_start_matches("##").chars().all(|c| scripts.contains(&script_block(c))))
        .map(|(id, _)| id as u32)
        .collect();
    // The other tokens of the examples, by how many examples use them, then by id.
    let mut uses: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for t in texts {
        let mut ids = whole.encoder.tokenizer().encode(&whole.input(t));
        ids.sort_unstable();
        ids.dedup();
        for id in ids.into_iter().filter(|id| !firsts.contains(id)) {
            *uses.entry(id).or_default() += 1;
        }
    }
    let mut others: Vec<(u32, usize)> = uses.into_iter().collect();
    others.sort_unstable_by_key(|&(id, n)| (std::cmp::Reverse(n), id));
    let mut encoder = whole.encoder;
    let mut n = others.len();
    loop {
        let keep: std::collections::HashSet<u32> = others[..n].iter().map(|&(id, _)| id).collect();
        let kept = encoder.retain_tokens(|id| firsts.contains(&id) || keep.contains(&id));
        let file = encoder.to_file(source);
        let over = budget.as_ref().map_or(0, |b| (b.size)(&file).saturating_sub(b.bytes));
        if over == 0 || n == 0 {
            return (file, kept);
        }
        // Each try keeps a subset of the last one's tokens, which is all `retain_tokens` can do.
        n = n.saturating_sub(over.div_ceil(TOKEN_BYTES).max(1));
    }
}

/// A coarse script of `c`: 0 for Latin (ASCII, Latin-1 and Latin Extended, U+0000-U+024F) and
/// the punctuation and symbol blocks (U+2000-U+2BFF), else its 128-code-point block.
fn script_block(c: char) -> u32 {
    match c as u32 {
        0..=0x24f | 0x2000..=0x2bff => 0,
        n => n >> 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bots_file_keeps_the_first_tokens_of_its_scripts_and_its_examples_tokens() {
        let tokens = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "の", "é", "refund", "order", "##s", "where", "parcel", "ship"];
        let encoder = crate::file::tests::encoder_with(&tokens);
        let (file, kept) = bot_file(encoder, 9, 8, &["where are my orders".into(), "parcel".into()], None);
        let (back, source) = Encoder::from_file(&file).unwrap();
        assert_eq!(source, 9);
        let left: Vec<&str> = back.tokenizer().tokens().into_iter().filter(|t| !t.is_empty()).collect();
        // Of the first 8: not the placeholder, not the kana (no example is in that script);
        // then the examples' pieces as the encoder reads them ("are" and "my" are [UNK];
        // "orders", no whole token, is corrected to "order", so "##s" is not needed), not "ship".
        assert_eq!(left, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "é", "refund", "order", "where", "parcel"]);
        assert_eq!(kept, left.len());
    }

    #[test]
    fn a_budget_drops_the_examples_least_used_tokens_first() {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "play", "song", "by", "adele", "queen", "abba"];
        let texts: Vec<String> =
            ["play song by adele", "play song by queen", "play song by abba", "play queen"].map(String::from).to_vec();
        let whole = |budget| {
            let (file, kept) = bot_file(crate::file::tests::encoder_with(&tokens), 9, 4, &texts, budget);
            let (back, _) = Encoder::from_file(&file).unwrap();
            let left: Vec<String> = back.tokenizer().tokens().into_iter().filter(|t| !t.is_empty()).map(String::from).collect();
            assert_eq!(kept, left.len());
            (file.len(), left)
        };
        let (all, left) = whole(None);
        assert_eq!(left.len(), tokens.len());
        // Room for two tokens fewer: "adele" and "abba", one example each, go first ("queen"
        // has two); the first ids are never dropped.
        let size = |file: &[u8]| file.len();
        let (fits, left) = whole(Some(Budget { bytes: all - 2 * TOKEN_BYTES, size: &size }));
        assert!(fits <= all - 2 * TOKEN_BYTES, "{fits} bytes");
        assert!(left.iter().all(|t| t != "adele" && t != "abba"), "{left:?}");
        assert!(left.iter().any(|t| t == "play") && left.iter().any(|t| t == "queen"), "{left:?}");
        let (_, left) = whole(Some(Budget { bytes: 0, size: &size }));
        assert_eq!(left, ["[PAD]", "[UNK]", "[CLS]", "[SEP]"], "the first ids stay, even over the budget");
    }

    #[test]
    fn the_input_is_typo_corrected_against_the_vocabulary() {
        let encoder = crate::file::tests::encoder_with(&["[PAD]", "[UNK]", "[CLS]", "[SEP]", "refund", "order", "where"]);
        let bot = BotEncoder::new(encoder, 1, 2);
        assert_eq!(bot.input("where is my refnud ordr"), "where is my refund order");
        assert_eq!((bot.hash(), bot.source(), bot.dim()), (1, 2, DIM));
        let mut out = vec![0.0; DIM];
        assert!(bot.embed_normalized("refund", &mut out));
        assert!((out.iter().map(|v| v * v).sum::<f32>() - 1.0).abs() < 1e-4, "L2-normalised");
    }
}
