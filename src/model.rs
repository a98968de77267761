//! The compiled model file that `sottovoce build` writes and the widget loads instead of
//! training in the page.
//!
//! Layout: the 4-byte magic `SVM\0`, a little-endian `u16` format version
//! ([`MODEL_FORMAT`](crate::model::MODEL_FORMAT)), then a postcard-encoded
//! [`Model`](crate::model::Model). The definition travels inside in the same postcard encoding,
//! without its example utterances (what the classifiers learned from them is in the weights),
//! so the file alone is enough to run the bot and the runtime never parses JSON to load it. A file of another version is rejected with
//! [`ModelError::Format`](crate::model::ModelError::Format) (as snips-nlu-rs does), never
//! misread.
//!
//! Versions: 1 held the definition, the two classifiers and the threshold; 2 adds the slot
//! tagger learned from the examples' markup; 3 records in each classifier the static word-vector
//! table it was trained with, if any (its FNV-1a 64 hash, dimensions and weight; the table itself
//! travels separately, see [`decode_with_vectors`](crate::model::decode_with_vectors)); 4 stores
//! the definition in postcard instead of JSON text, without its examples; 5 lets a model
//! travel in parts: a common file that names the locales it leaves out ([`Model::parts`]) and
//! one [`LocalePart`] file per such locale (magic `SVP\0`), with that locale's messages and
//! the intent weights only its examples use, so a visitor downloads the parts of their own
//! language only ([`split`]); 6 adds the definition's `greeting.topics` (open topics a
//! returning visitor is greeted with); 7 adds the definition's `triggers` (proactive teasers),
//! `csat` (the satisfaction question) and `facts` (business facts); 8 and 9 add form fields
//! (quick replies and `recommend`; `submit`); 10 stores the classifiers' weights as 5-bit
//! signed-square codes instead of 8-bit linear ones (`nlu/compact.rs`), and the intent actions
//! `show_profile` and `forget_me`; 11 adds an intent's `ends_form`; 12 the dialogue settings'
//! `familiar_threshold` and `familiar_coverage`; 13 range-codes the classifiers' sparse
//! rows instead of writing them as varints (`nlu/coding.rs`), stores the slot taggers' weights
//! in 8 bits instead of 16, and carries each locale's sentiment lexicon (in its part when
//! split), which the runtime no longer compiles in. An older
//! file is rejected (rebuild it with `sottovoce build`): postcard is not self-describing, so an
//! old body cannot be read as a new one.

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::definition::BotDefinition;
use crate::nlu::{IntentClassifier, NluError, SentenceEncoder};
#[cfg(test)]
use crate::nlu::StaticVectors;
use crate::sentiment::Lexicon;
use crate::slots::SlotTagger;

/// First bytes of every model file.
pub const MAGIC: &[u8; 4] = b"SVM\0";

/// The model format version this build reads and writes (8: slots' quick replies and a form's
/// `recommend`, the preference quiz's; 9: a form's `submit`; 10: 5-bit signed-square weight
/// codes; 11: an intent's `ends_form`; 12: the dialogue's `familiar_threshold` and
/// `familiar_coverage`; 13: range-coded classifier rows, 8-bit slot
/// weights, sentiment lexicons; 14: a pattern entity's `value` template; 15: an idf code per
/// intent-classifier row; 16: a reply's `with_products`).
pub const MODEL_FORMAT: u16 = 16;

/// First bytes of a locale part file ([`LocalePart`]); the format version follows as in a
/// model file.
pub const PART_MAGIC: &[u8; 4] = b"SVP\0";

/// What a model file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The bot definition, validated when the model was built, without its intents'
    /// `examples` but those the bot reads as entities alone and as their own intent, as plain
    /// text (`Bot::to_model`): an entity alone decides an intent only when an owner wrote
    /// exactly it as an example. A model without them (older ones) loads the same, and an
    /// older reader ignores them, so the format did not change for them.
    pub definition: BotDefinition,
    /// Classifier over the definition's intents, in definition order.
    pub intents: IntentClassifier,
    /// Classifier over the definition's locales, in definition order.
    pub locales: IntentClassifier,
    /// The confidence threshold in use (from the definition, or chosen at training).
    pub threshold: f32,
    /// The slot taggers trained on each locale's `[value](slot)` markup (intent indices in
    /// definition order), one per locale in definition order, `None` for a locale without
    /// markup or whose tagger travels in its [`LocalePart`]; empty when no example is marked
    /// up.
    pub slots: Vec<Option<SlotTagger>>,
    /// The locales whose messages and own intent weights travel in [`LocalePart`] files
    /// instead of this one (in definition order); empty for a whole model.
    pub parts: Vec<String>,
    /// Each locale's sentiment lexicon, in definition order; `None` for a locale whose
    /// lexicon travels in its [`LocalePart`].
    pub sentiment: Vec<Option<Lexicon>>,
}

/// One locale's share of a model split by [`split`]: its messages and the intent weights of
/// the feature buckets that only its examples use. Added to the common model with
/// [`crate::Bot::add_locale`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalePart {
    /// The locale (BCP 47, one of the definition's).
    pub locale: String,
    /// FNV-1a 64 of the common model file this part belongs to (its whole bytes).
    pub model: u64,
    /// The locale's messages (id → Fluent pattern), as in the definition's `messages`.
    pub messages: std::collections::BTreeMap<String, String>,
    /// The intent classifier's rows this locale adds ([`IntentClassifier::absorb`]).
    pub intents: IntentClassifier,
    /// The locale's slot tagger, if its examples carry markup.
    pub slots: Option<SlotTagger>,
    /// The locale's sentiment lexicon.
    pub sentiment: Option<Lexicon>,
}

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The bytes do not start with [`MAGIC`].
    #[error("not a sottovoce model file (it does not start with the SVM magic bytes)")]
    NotAModel,
    /// The file was written by another format version.
    #[error("model file has format {found}, but this sottovoce reads format {expected}; rebuild it with `sottovoce build`")]
    Format {
        /// The version in the file.
        found: u16,
        /// [`MODEL_FORMAT`].
        expected: u16,
    },
    /// The file is truncated or damaged.
    #[error("model file is damaged: {0}")]
    Corrupt(String),
    /// The model was trained with a static word-vector table and none was given.
    #[error("the model was trained with word-vector table {hash:016x} ({dim} dimensions); load it with that table")]
    VectorsRequired {
        /// FNV-1a 64 of the table ([`crate::nlu::StaticVectors::hash`]).
        hash: u64,
        /// Its dimensions.
        dim: usize,
    },
    /// A locale part file does not belong to the model it is added to.
    #[error("model part for locale `{locale}` belongs to another model file (rebuild both with `sottovoce build --split`)")]
    PartMismatch {
        /// The part's locale.
        locale: String,
    },
    /// The model cannot be split: it has no examples to tell the locales' features apart.
    #[error("cannot split the model by locale: {0}")]
    CannotSplit(String),
    /// The model was trained with another word-vector table than the one given.
    #[error("model file: {0}")]
    Vectors(#[from] NluError),
}

/// Returns true when `bytes` look like a model file (start with [`MAGIC`]).
pub fn is_model(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Encodes a model into the file format.
pub fn encode(model: &Model) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&MODEL_FORMAT.to_le_bytes());
    let body = postcard::to_allocvec(model).expect("model serializes");
    out.extend_from_slice(&body);
    out
}

/// Encodes a locale part into its file format (`SVP\0`, the format version, postcard).
pub fn encode_part(part: &LocalePart) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(PART_MAGIC);
    out.extend_from_slice(&MODEL_FORMAT.to_le_bytes());
    out.extend_from_slice(&postcard::to_allocvec(part).expect("model part serializes"));
    out
}

/// Decodes a locale part file.
///
/// # Errors
/// [`ModelError::NotAModel`] without the `SVP\0` magic, [`ModelError::Format`] for another
/// version, [`ModelError::Corrupt`] for a damaged body.
pub fn decode_part(bytes: &[u8]) -> Result<LocalePart, ModelError> {
    if !bytes.starts_with(PART_MAGIC) {
        return Err(ModelError::NotAModel);
    }
    postcard::from_bytes(check_version(bytes)?).map_err(|e| ModelError::Corrupt(e.to_string()))
}

/// Splits a whole model into the common file and one part file per locale, given every
/// locale's training texts (`examples[i]` for `model.definition.locales[i]`, plain text
/// without slot markup). The common file keeps the definition without any locale's messages,
/// and the locale classifier; each part gets its locale's messages, slot tagger and the
/// intent weights of every feature bucket its examples use (so parts overlap where locales
/// share n-grams, and one part alone scores that locale's phrasings as the whole model
/// does). Common file plus all parts scores exactly as the whole.
///
/// Returns `(common file bytes, [(locale, part file bytes)])`.
///
/// # Errors
/// [`ModelError::CannotSplit`] when the model is already split or a locale has no examples.
pub fn split(model: &Model, examples: &[Vec<&str>]) -> Result<(Vec<u8>, Vec<(String, Vec<u8>)>), ModelError> {
    let locales = &model.definition.locales;
    if !model.parts.is_empty() {
        return Err(ModelError::CannotSplit("it is split already".into()));
    }
    if examples.len() != locales.len() || examples.iter().any(Vec::is_empty) {
        return Err(ModelError::CannotSplit("every locale needs its training examples".into()));
    }
    let mut common = model.clone();
    let mut parts = Vec::new();
    for (i, locale) in locales.iter().enumerate() {
        let intents = model.intents.part_for(&examples[i]);
        let messages = common.definition.messages.remove(locale).unwrap_or_default();
        let slots = common.slots.get_mut(i).and_then(Option::take);
        let sentiment = common.sentiment.get_mut(i).and_then(Option::take);
        parts.push(LocalePart { locale: locale.clone(), model: 0, messages, intents, slots, sentiment });
    }
    let all: Vec<&str> = examples.iter().flatten().copied().collect();
    common.intents.drop_buckets_of(&all);
    common.parts = locales.clone();
    let bytes = encode(&common);
    let hash = crate::text::fnv1a64(&bytes);
    let parts = parts.into_iter().map(|p| (p.locale.clone(), encode_part(&LocalePart { model: hash, ..p }))).collect();
    Ok((bytes, parts))
}

/// Decodes a model file whose classifiers need no word-vector table.
///
/// # Errors
/// [`ModelError::NotAModel`], [`ModelError::Format`] or [`ModelError::Corrupt`];
/// [`ModelError::VectorsRequired`] for a model trained with word vectors (use
/// [`decode_with_vectors`]).
pub fn decode(bytes: &[u8]) -> Result<Model, ModelError> {
    decode_with_vectors(bytes, None)
}

/// Decodes a model file and attaches `vectors` to the classifiers trained with a word-vector
/// table ([`IntentClassifier::attach_vectors`]); a table given to a model trained without one
/// is ignored.
///
/// # Errors
/// As [`decode`]; [`ModelError::VectorsRequired`] when a classifier needs a table and `vectors`
/// is `None`, [`ModelError::Vectors`] when it needs another table.
pub fn decode_with_vectors(bytes: &[u8], vectors: Option<&Arc<dyn SentenceEncoder>>) -> Result<Model, ModelError> {
    let mut model = decode_body(bytes)?;
    for classifier in [&mut model.intents, &mut model.locales] {
        match (classifier.vectors_required(), vectors) {
            (None, _) => {}
            (Some((hash, dim)), None) => return Err(ModelError::VectorsRequired { hash, dim }),
            (Some(_), Some(table)) => classifier.attach_vectors(table)?,
        }
    }
    Ok(model)
}

/// The header check and the postcard body, classifiers as stored (tables not attached).
pub(crate) fn decode_body(bytes: &[u8]) -> Result<Model, ModelError> {
    if !is_model(bytes) {
        return Err(ModelError::NotAModel);
    }
    postcard::from_bytes(check_version(bytes)?).map_err(|e| ModelError::Corrupt(e.to_string()))
}

/// The body after a model or part file's 6-byte header, if its version is [`MODEL_FORMAT`].
fn check_version(bytes: &[u8]) -> Result<&[u8], ModelError> {
    let version = bytes
        .get(4..6)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| ModelError::Corrupt("shorter than its header".into()))?;
    if version != MODEL_FORMAT {
        return Err(ModelError::Format { found: version, expected: MODEL_FORMAT });
    }
    Ok(&bytes[6..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nlu::TrainOptions;

    fn model() -> Model {
        let examples = [("hello there", 0), ("hi", 0), ("where is my order", 1), ("track my parcel", 1)];
        let options = TrainOptions::default();
        let definition = BotDefinition::parse(
            r#"{"format": 1, "id": "t", "name": "T", "locales": ["en"], "intents": [],
                "messages": {"en": {"f": "Sorry?", "g": "Hi"}},
                "entities": [{"kind": "list", "name": "colour", "values": [{"value": "red"}]},
                             {"kind": "pattern", "name": "order", "pattern": "CU-\\d+"}],
                "fallback": {"message": "f"}, "greeting": {"message": "g", "returning": "g"},
                "dialogue": {"memory_turns": 4, "question_min_words": 3}}"#,
        )
        .unwrap();
        Model {
            definition,
            intents: IntentClassifier::train(&examples, 2, &options),
            locales: IntentClassifier::train(&[("hello", 0), ("hola", 1)], 2, &options),
            threshold: 0.35,
            slots: Vec::new(),
            parts: Vec::new(),
            sentiment: vec![Some(crate::sentiment::Lexicon::from("great\t3.1\nawful\t-3.4\n".to_owned()))],
        }
    }

    #[test]
    fn round_trip_keeps_everything() {
        let m = model();
        let bytes = encode(&m);
        assert!(bytes.starts_with(MAGIC));
        assert_eq!(&bytes[4..6], &MODEL_FORMAT.to_le_bytes());
        assert_eq!(decode(&bytes).unwrap(), m);
    }

    #[test]
    fn the_definition_inside_reads_back_from_its_json_too() {
        // Both spellings of the tagged entity enum, and the JSON without the unset fields.
        let m = model();
        let json = m.definition.to_json();
        assert!(json.contains(r#""kind":"list""#) && !json.contains("null"), "{json}");
        assert_eq!(BotDefinition::parse(&json).unwrap(), m.definition);
    }

    #[test]
    fn wrong_magic_is_not_a_model() {
        let mut bytes = encode(&model());
        bytes[0] = b'X';
        assert!(matches!(decode(&bytes), Err(ModelError::NotAModel)));
        assert!(matches!(decode(br#"{"format": 1}"#), Err(ModelError::NotAModel)));
        assert!(matches!(decode(b""), Err(ModelError::NotAModel)));
    }

    #[test]
    fn other_version_is_rejected_with_both_versions() {
        let mut bytes = encode(&model());
        bytes[4..6].copy_from_slice(&(MODEL_FORMAT + 1).to_le_bytes());
        match decode(&bytes) {
            Err(ModelError::Format { found, expected }) => {
                assert_eq!((found, expected), (MODEL_FORMAT + 1, MODEL_FORMAT));
            }
            other => panic!("expected ModelError::Format, got {other:?}"),
        }
    }

    #[test]
    fn a_version_1_file_is_rejected_by_version() {
        // The whole version 1 layout: the same header, a body without the slot tagger.
        #[derive(Serialize)]
        struct ModelV1 {
            definition_json: String,
            intents: IntentClassifier,
            locales: IntentClassifier,
            threshold: f32,
        }
        let m = model();
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&1u16.to_le_bytes());
        let v1 = ModelV1 { definition_json: "{}".into(), intents: m.intents, locales: m.locales, threshold: m.threshold };
        bytes.extend_from_slice(&postcard::to_allocvec(&v1).unwrap());
        match decode(&bytes) {
            Err(e @ ModelError::Format { found: 1, expected: MODEL_FORMAT }) => {
                assert!(e.to_string().contains("rebuild it with `sottovoce build`"), "{e}")
            }
            other => panic!("expected ModelError::Format for a version 1 file, got {other:?}"),
        }
    }

    #[test]
    fn a_model_trained_with_vectors_needs_the_same_table() {
        let rows = [vec![0, 0, 1], vec![7, 0, 0], vec![0, 7, 0], vec![0, 0, 7]];
        let table = crate::nlu::vectors_test_table(&["[UNK]", "hello", "order", "parcel"], &rows, 4);
        let table: Arc<dyn SentenceEncoder> = Arc::new(StaticVectors::from_bytes(&table).unwrap());
        let options = TrainOptions { vectors: Some(Arc::clone(&table)), ..TrainOptions::default() };
        let examples = [("hello there", 0), ("hi", 0), ("where is my order", 1), ("track my parcel", 1)];
        let m = Model { intents: IntentClassifier::train(&examples, 2, &options), ..model() };
        let bytes = encode(&m);
        match decode(&bytes) {
            Err(e @ ModelError::VectorsRequired { hash, dim: 3 }) => {
                assert_eq!(hash, table.hash());
                assert!(e.to_string().contains(&format!("{hash:016x}")), "{e}");
            }
            other => panic!("expected VectorsRequired, got {other:?}"),
        }
        let other = crate::nlu::vectors_test_table(&["a"], &[vec![1, 2, 3]], 8);
        let other: Arc<dyn SentenceEncoder> = Arc::new(StaticVectors::from_bytes(&other).unwrap());
        assert!(matches!(
            decode_with_vectors(&bytes, Some(&other)),
            Err(ModelError::Vectors(NluError::VectorsMismatch { .. }))
        ));
        let back = decode_with_vectors(&bytes, Some(&table)).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.intents.predict("where is my parcel"), m.intents.predict("where is my parcel"));
        // A model without vectors loads with or without a table.
        assert_eq!(decode_with_vectors(&encode(&model()), Some(&table)).unwrap(), model());
    }

    #[test]
    fn the_slot_tagger_round_trips() {
        let a = crate::slots::parse_markup("is the [rain shell](product) waterproof").unwrap();
        let examples = [crate::slots::SlotExample { text: &a.text, spans: &a.spans, intent: 0 }];
        let tagger = SlotTagger::train(&examples, &crate::slots::SlotTrainOptions::default()).unwrap();
        let m = Model { slots: vec![Some(tagger)], ..model() };
        assert_eq!(decode(&encode(&m)).unwrap(), m);
    }

    #[test]
    fn truncated_file_is_corrupt() {
        let bytes = encode(&model());
        assert!(matches!(decode(&bytes[..5]), Err(ModelError::Corrupt(_))), "cut inside the header");
        for cut in [6, 7, bytes.len() / 2, bytes.len() - 1] {
            assert!(matches!(decode(&bytes[..cut]), Err(ModelError::Corrupt(_))), "cut at {cut} of {}", bytes.len());
        }
    }
}
