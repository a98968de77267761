//! Natural-language understanding: text normalisation, features and trained classifiers.
//!
//! [`IntentClassifier`] is the one trained model type. The bot trains two: one over intents and
//! one over locales (the same examples labelled by the locale they were written in), so locale
//! detection is learned from the owner's own examples and costs no extra data in the bundle.
//!
//! The pipeline, the same at training and prediction:
//!
//! ```text
//! text ─▶ normalize (lowercase, fold accents, drop punctuation)
//!      ─▶ features (word 1-2-grams + char 2-5-grams in word boundaries, hashed, 1+ln tf, L2)
//!      ─▶ linear softmax model (multinomial logistic regression, SGD; pruned i8 weights)
//!      ─▶ probabilities per label
//! ```
//!
//! Design choices and why:
//! - Hashed features: no vocabulary to ship; the model stores weights only for buckets that
//!   training saw, so an unseen word costs one failed binary search.
//! - Character n-grams carry typos, inflections and both languages' morphology; word bigrams
//!   carry order ("cancel my order" vs "order cancelled").
//! - Logistic regression gives probabilities that are usable as confidence for the fallback
//!   threshold, and trains in one pass per epoch over the examples: a 1,000-example store bot
//!   trains in a few tens of milliseconds.
//! - Everything is deterministic from [`TrainOptions::seed`]; no clock, threads or OS randomness.

use serde::{Deserialize, Serialize};

mod coding;
mod compact;
mod features;
mod noise;
mod train;
mod typos;
mod vectors;
mod wordpiece;

pub use features::FeatureConfig;
pub use noise::add_typos;
pub use crate::text::{fnv1a64, normalize};
pub use vectors::{SentenceEncoder, StaticVectors, VectorsError, VECTORS_MAGIC};
pub use wordpiece::WordPiece;
#[cfg(test)]
pub(crate) use vectors::table as vectors_test_table;

use std::sync::Arc;

use crate::text::Utterance;


use compact::{Compact, CompactWire};
use features::Scratch;
use train::{SgdParams, Sparse};

/// Why a stored classifier could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NluError {
    /// The serialized classifier is internally inconsistent (truncated, edited or damaged).
    #[error("classifier data is damaged: {0}")]
    Corrupt(String),
    /// A part of a split model does not belong to the classifier it was added to.
    #[error("this model part does not belong to the model loaded: {0}")]
    PartMismatch(String),
    /// The classifier was trained with a static vector table other than the one given.
    #[error("the classifier was trained with word-vector table {expected:016x} ({expected_dim} dimensions), not {found:016x} ({found_dim} dimensions)")]
    VectorsMismatch {
        /// FNV-1a 64 of the table the classifier was trained with.
        expected: u64,
        /// Its dimensions.
        expected_dim: usize,
        /// FNV-1a 64 of the table given.
        found: u64,
        /// Its dimensions.
        found_dim: usize,
    },
}

/// Options for training; the defaults are what the widget and `sottovoce eval` use.
///
/// Build non-default options with struct update syntax:
/// `TrainOptions { seed: 7, ..TrainOptions::default() }`.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Seed for shuffling and initialisation: same seed, same model.
    pub seed: u64,
    /// Which features to extract.
    pub features: FeatureConfig,
    /// Passes over the examples; 0 picks a number from the data size (see [`TrainOptions::epochs_for`]).
    pub epochs: u32,
    /// Initial SGD learning rate; it decays linearly to 0.
    pub learning_rate: f32,
    /// L2 regularisation strength (per example).
    pub l2: f32,
    /// Weights smaller than this fraction of the largest are pruned from the stored model.
    ///
    /// 0.01 (the default) was chosen on the demo bot's first held-out set (the one its
    /// examples were tuned on; six locales, top-1): 0, 0.01 and 0.02 all give 0.959, while the
    /// model's intent weights shrink from 752 to 527 and 374 KB gzip; with two locales 0.01
    /// still gave 0.954 like 0, and 0.015 and 0.02 fell to 0.951. It halves what a visitor
    /// downloads with no loss measured. Measured again with the demo in six locales and one
    /// slot tagger per locale (first set, acted on / top-1; English first load of the model in
    /// parts, gzip): 0.01 0.897 / 0.962, 213 KB; 0.02 0.892 / 0.959, 174 KB; 0.03 0.886 /
    /// 0.959, 151 KB; 0.04 0.873 / 0.957, 135 KB. 0.01 stays: the bytes 0.03 saves cost a point.
    ///
    /// 0.012 since the idf weighting ([`TrainOptions::idf`]), which spreads the weights over
    /// more n-grams: it and [`TrainOptions::min_negative_weight`] were raised together by a
    /// fifth (0.01 / 0.02 → 0.012 / 0.024), chosen on the demo's cross-validation
    /// (`tests/threshold_calibration.rs`: top-1 0.817 → 0.818, in-scope at the default rule
    /// 0.755 → 0.755, dev rows right 268 → 268) and bytes (the German part of the demo's model
    /// 123,802 → 116,847 gzip -9, every part about 5.6 % smaller), so that each locale's first
    /// load stays within issue 19's 450 KB (German 454.1 KB with 0.01 / 0.02).
    pub min_weight: f32,
    /// Negative weights smaller than this fraction of the largest are pruned from the stored
    /// model ([`TrainOptions::min_weight`] is the positive weights' share).
    ///
    /// Most stored weights are small negatives: every example pushes down the probability of
    /// the labels it is not, so a feature row gets many slight negatives beside the few labels
    /// it speaks for (in the demo's English part, codes −2 and −3 are 67k of 140k weights).
    /// 0.02 (the default) was chosen on data never tested on, against 0.01 (the positive share,
    /// the rule before): the demo bot's 5-fold cross-validation (`tests/threshold_calibration.rs`)
    /// acts rightly on 72.4 % of in-scope examples at the best rule rejecting 90 % of the
    /// out-of-scope queries (72.5 % before; top-1 81.1 against 81.3); CLINC150 val top-1 93.03
    /// → 92.90 (accuracy tier 96.20 → 96.23); held-out tenths of train, BANKING77 89.90 →
    /// 89.80 and SNIPS 98.91 → 98.91: all within the 0.2-point noise of the seeds. It shrinks
    /// the models by a sixth: the demo's English first load of the model (common file and
    /// English part) 204.8 → 180.3 KB gzip, CLINC150 405 → 337 KB (accuracy tier 507 → 410),
    /// BANKING77 316 → 261, SNIPS 176 → 146. 0.03 saved another 13 KB on the demo but lost 0.7
    /// points of the cross-validated in-scope rate. 0.024 since the idf weighting (see
    /// [`TrainOptions::min_weight`]).
    pub min_negative_weight: f32,
    /// Label smoothing ε (Szegedy et al., 2016, "Rethinking the Inception Architecture", 7): the
    /// training target gives the true label 1 - ε and spreads ε over all labels, so the model
    /// stops sharpening an example it already gets right. In [0, 1); 0 is plain cross-entropy.
    ///
    /// 0.1 (the default) was chosen on data never tested on (CLINC150 val; a held-out tenth of
    /// BANKING77 and of SNIPS train, as `sottovoce eval` splits them), top-1 %, mean of three
    /// seeds, n-grams alone: ε 0 → 0.05 → 0.1: CLINC150 92.86 → 93.38 → 93.36, BANKING77
    /// 89.64 → 90.23 → 90.40, SNIPS 98.98 → 99.11 → 99.13; with the shipped word vectors
    /// (two seeds) CLINC150 93.99 → 94.17 → 94.12, BANKING77 89.64 → 90.83 → 90.57, SNIPS
    /// 98.91 → 99.17 → 99.24. 0.15 and 0.2 are no better; the seeds alone move these by 0.2 to
    /// 0.5. Neither 15 or 25 epochs, learning rates 2 or 8, nor L2 3e-7 or 3e-6 beat the other
    /// defaults by more than that noise. Probabilities are also less overconfident, which
    /// separates out-of-scope queries better (see [`TrainOptions::logit_scale`]). Feature
    /// dropout (p 0.35) beat these settings on val but not on the demo's cross-validation or on
    /// test, and was left out (`docs/experiments/feature-dropout.md`).
    pub label_smoothing: f32,
    /// Every trained score is multiplied by this (a fixed inverse temperature, folded into the
    /// stored weights, so free at prediction): the best label never changes, only how sharp the
    /// probabilities are. 1 or 0 leaves the scores as trained.
    ///
    /// Label smoothing flattens probabilities; with smoothing 0.1, the default 1.5 brings them
    /// back to the scale of the dialogue's thresholds. Measured with
    /// `tests/threshold_calibration.rs` (store bot, 5-fold, against CLINC150 train+val
    /// out-of-scope queries), best balanced score and where: smoothing 0.1 with scale 1.5 0.805
    /// at 0.54 (see [`crate::DEFAULT_THRESHOLD`]), with scale 1 0.809 at 0.27, with scale 2
    /// 0.796 at 0.75; without smoothing 0.790 at 0.64. `sottovoce eval` chooses its
    /// out-of-scope rule on val whatever the scale.
    pub logit_scale: f32,
    /// Static word vectors whose sentence vector is appended to the hashed features
    /// (docs/experiments/word-vectors.md); `None` (the default) trains on n-grams alone. The
    /// classifier records the table's hash and needs the same table to predict
    /// ([`IntentClassifier::attach_vectors`]).
    pub vectors: Option<Arc<dyn SentenceEncoder>>,
    /// Weight of the sentence vector (L2 norm 1) against the hashed features (norm 1 together);
    /// used only with [`TrainOptions::vectors`].
    ///
    /// 0.5 (the default) was chosen on data never tested on, with the shipped 64-dimension table
    /// (`assets/vectors/`): CLINC150 val top-1 92.87 without vectors, 93.23 / 93.77 / 94.07 /
    /// 94.07 / 93.53 / 91.87 / 90.50 with weights 0.25 / 0.35 / 0.5 / 0.7 / 1 / 1.5 / 2; on held-out
    /// tenths of train (four folds) BANKING77 90.19 → 90.32 and SNIPS 98.73 → 98.64 at 0.5.
    /// Heavier weights lose: every example updates the dense block's weights, so at the default
    /// learning rate they move far more than the sparse n-grams' (docs/experiments/word-vectors.md).
    pub vector_weight: f32,
    /// Typo-noised copies of each example trained beside it ([`add_typos`] on its normalised
    /// text at [`TrainOptions::typo_rate`], seeded from [`TrainOptions::seed`]; a copy the
    /// noise left unchanged is dropped). 0 trains on the examples as written. The number of
    /// epochs is still chosen from the examples as written, so training takes about
    /// `1 + typo_copies` times as long.
    ///
    /// 0 (the default) after measuring 1 at rate 0.1 (issue 17, item 4). On data never tested
    /// on (CLINC150 val; held-out tenths of BANKING77 and SNIPS train), top-1 % clean / with 10 %
    /// of words typo-noised, none → one copy: CLINC150 93.37 / 91.13 → 93.33 / 91.97,
    /// BANKING77 (two tenths) 90.36 / 87.91 → 90.41 / 88.11, SNIPS 98.91 / 98.19 → 98.84 /
    /// 98.48: robustness up, accuracy level. On test (`sottovoce eval`, for the record, not to
    /// choose), clean (typo drop): CLINC150 in-scope 92.71 (−1.51) → 92.98 (−1.09), overall
    /// with out-of-scope 88.44 → 89.29; BANKING77 91.66 (−2.24) → 91.23 (−1.26); SNIPS 98.29
    /// (−0.29) → 98.14 (0.00). It meets the 2-point typo goal everywhere but stays off by
    /// default: BANKING77 and SNIPS lose clean accuracy, the CLINC150 model grows from 472 to 675 KB gzip (318,073 → 442,573 weights),
    /// training takes two to three times as long, and the demo shop's pt-BR story "e pra
    /// Alemanha, quanto tempo demora?" flips from international to domestic shipping times.
    /// Rate 0.2 or two copies at 0.15 cut the typo drop further on CLINC150 and SNIPS but not
    /// on BANKING77, and grow the model more.
    pub typo_copies: u32,
    /// Share of the words of a typo copy that get one character edit, in [0, 1].
    pub typo_rate: f32,
    /// Weights each hashed n-gram by its inverse document frequency over the examples before
    /// each block is normalised ([`FeatureConfig`]; `ln((1 + n) / (1 + df)) + 1` for `n`
    /// examples, `df` of them having the n-gram, as scikit-learn's smoothed idf). The model
    /// stores one of 32 idf codes per feature row it keeps; an n-gram without a row gets the
    /// largest idf, as one no example had.
    ///
    /// On (the default) for the intent classifier, chosen on data never tested on. The demo
    /// bot's 5-fold cross-validation (`tests/threshold_calibration.rs`): top-1 0.807 → 0.818
    /// (the TF-IDF + LinearSVC peer gets 0.817 on the same folds, 0.806 without its idf), and
    /// in-scope examples acted on rightly at the best rule rejecting 90 % of out-of-scope
    /// queries 0.725 → 0.759. CLINC150 val and held-out tenths of BANKING77 and SNIPS train
    /// (`sottovoce eval`): 92.90 → 93.03, 91.10 → 91.70 and 99.06 → 99.13. Off for the locale
    /// classifier ([`TrainOptions::locale`]).
    pub idf: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            seed: 0x5077_0C0C,
            features: FeatureConfig::default(),
            epochs: 0,
            learning_rate: 4.0,
            l2: 1e-6,
            min_weight: 0.012,
            min_negative_weight: 0.024,
            label_smoothing: 0.1,
            logit_scale: 1.5,
            vectors: None,
            vector_weight: 0.5,
            typo_copies: 0,
            typo_rate: 0.1,
            idf: true,
        }
    }
}

impl TrainOptions {
    /// The options of a bot's locale classifier (which of its locales a message is in): a
    /// much smaller model than the intents', since telling languages apart needs short
    /// character n-grams only. Character 1- to 4-grams and single words in 2^18 buckets,
    /// weights under 8 % of the largest pruned. Chosen by 5-fold cross-validation over the
    /// demo bot's examples in six locales (7,470): accuracy 0.968 against 0.972 with the
    /// intents' features, at 30 KB gzip instead of 254 KB (with three locales the two were
    /// level at 0.996). The pruning, 5 % then, was raised to 8 % on the same cross-validation
    /// (`tests/locale_calibration.rs`, 8,272 examples; accuracy and postcard bytes): 5 %
    /// 0.9692, 48,267; 6 % 0.9698, 39,352; 8 % 0.9682, 27,317; 10 % 0.9669, 19,895; 12 %
    /// 0.9660, 14,899. 8 % was the hardest pruning within two tenths of a point of the best.
    pub fn locale() -> TrainOptions {
        TrainOptions {
            features: FeatureConfig { hash_bits: 18, word_ngrams: 1, char_min: 1, char_max: 4, ..FeatureConfig::default() },
            min_weight: 0.08,
            min_negative_weight: 0.08,
            typo_copies: 0,
            idf: false,
            ..TrainOptions::default()
        }
    }

    /// The number of epochs used for `n_examples` examples: [`TrainOptions::epochs`] when set,
    /// otherwise about 150,000 updates in total, between 8 and 20 epochs (a 2,000-example bot
    /// trains 20 epochs: a fifth of a second natively).
    pub fn epochs_for(&self, n_examples: usize) -> u32 {
        if self.epochs > 0 {
            return self.epochs;
        }
        (150_000 / n_examples.max(1)).clamp(8, 20) as u32
    }
}

/// A trained multi-class text classifier with probabilities.
///
/// Serializes (serde) into a compact form: sorted hashed feature buckets with sparse 5-bit
/// weights; deserializing checks the structure and fails with [`NluError::Corrupt`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "ClassifierWire", try_from = "ClassifierWire")]
pub struct IntentClassifier {
    n_labels: usize,
    features: FeatureConfig,
    linear: Compact,
    vectors: Option<VectorUse>,
    /// Whether [`IntentClassifier::predict_with_coverage`] reads an unlearned word one edit
    /// from a learned one as that word (`nlu/typos.rs`); on for every trained or loaded
    /// classifier, not stored in the model.
    typo_correction: bool,
}

/// The dense-block source a classifier was trained with: recorded in the model, the table or
/// encoder itself attached after loading.
#[derive(Debug, Clone)]
struct VectorUse {
    spec: VectorsWire,
    table: Option<Arc<dyn SentenceEncoder>>,
}

/// Equal when they record the same source and both have it attached or neither has (sources
/// with equal specs are the same weights).
impl PartialEq for VectorUse {
    fn eq(&self, other: &VectorUse) -> bool {
        self.spec == other.spec && self.table.is_some() == other.table.is_some()
    }
}

/// Which table, and how heavily its block weighs (serialized).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct VectorsWire {
    hash: u64,
    dim: u32,
    weight: f32,
}

/// Serialized layout of [`IntentClassifier`].
#[derive(Serialize, Deserialize)]
struct ClassifierWire {
    features: FeatureConfig,
    linear: CompactWire,
    vectors: Option<VectorsWire>,
}

impl From<IntentClassifier> for ClassifierWire {
    fn from(c: IntentClassifier) -> ClassifierWire {
        ClassifierWire { features: c.features, linear: c.linear.into(), vectors: c.vectors.map(|v| v.spec) }
    }
}

impl TryFrom<ClassifierWire> for IntentClassifier {
    type Error = NluError;

    fn try_from(w: ClassifierWire) -> Result<IntentClassifier, NluError> {
        let linear = Compact::try_from(w.linear)?;
        if w.vectors.is_some_and(|v| !v.weight.is_finite()) {
            return Err(NluError::Corrupt("non-finite word-vector weight".into()));
        }
        let vectors = w.vectors.map(|spec| VectorUse { spec, table: None });
        Ok(IntentClassifier { n_labels: linear.n_labels, features: w.features, linear, vectors, typo_correction: true })
    }
}

impl IntentClassifier {
    /// Trains on `(utterance, label)` pairs, labels in `0..n_labels` (at most 65,535 labels).
    ///
    /// Examples with a label out of range are skipped. With no usable examples the classifier
    /// predicts the uniform distribution.
    ///
    /// ```
    /// use sottovoce::nlu::{IntentClassifier, TrainOptions};
    /// let data = [("hello there", 0), ("hi", 0), ("where is my order", 1), ("track my parcel", 1)];
    /// let c = IntentClassifier::train(&data, 2, &TrainOptions::default());
    /// let p = c.predict("where's my parcel?");
    /// assert!(p[1] > p[0]);
    /// ```
    pub fn train(examples: &[(&str, usize)], n_labels: usize, options: &TrainOptions) -> IntentClassifier {
        IntentClassifier::train_with_progress(examples, n_labels, options, &mut |_| {})
    }

    /// As [`IntentClassifier::train`], calling `progress` with the fraction done (0 to 1)
    /// about a hundred times, for progress bars.
    pub fn train_with_progress(
        examples: &[(&str, usize)],
        n_labels: usize,
        options: &TrainOptions,
        progress: &mut dyn FnMut(f32),
    ) -> IntentClassifier {
        let n_labels = n_labels.min(u16::MAX as usize);
        let cfg = options.features.clone();
        let vectors = options.vectors.as_ref().filter(|_| options.vector_weight > 0.0).map(|t| VectorUse {
            spec: VectorsWire { hash: t.hash(), dim: t.dim() as u32, weight: options.vector_weight },
            table: Some(Arc::clone(t)),
        });
        let mut scratch = Scratch::default();
        // Document frequencies over the examples as written (not their typo copies), for the
        // idf weighting: each bucket's idf, rounded to its stored code, so training reads the
        // very values a loaded model will.
        let idf_codes: Option<(std::collections::HashMap<u32, u8>, f32)> = options.idf.then(|| {
            let mut df: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
            let mut n = 0u32;
            for &(text, label) in examples {
                if label >= n_labels {
                    continue;
                }
                n += 1;
                cfg.extract_normalized(&normalize(text), None, None, &mut scratch);
                for &(bucket, _) in &scratch.features {
                    *df.entry(bucket).or_default() += 1;
                }
            }
            let max = (1.0 + n as f32).ln() + 1.0;
            let codes = df
                .into_iter()
                .map(|(b, d)| (b, compact::idf_code(((1.0 + n as f32) / (1.0 + d as f32)).ln() + 1.0, max)))
                .collect();
            (codes, max)
        });
        let idf_of = |b: u32| -> f32 {
            let (codes, max) = idf_codes.as_ref().expect("called only with idf weighting");
            codes.get(&b).map_or(*max, |&c| compact::idf_value(c, *max))
        };
        let idf_fn: Option<&dyn Fn(u32) -> f32> = if idf_codes.is_some() { Some(&idf_of) } else { None };
        let mut vocab: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
        let mut buckets: Vec<u32> = Vec::new();
        let mut x = Sparse { offsets: vec![0], ..Sparse::default() };
        let mut y = Vec::with_capacity(examples.len());
        let mut add = |norm: &str, label: usize, scratch: &mut Scratch| {
            cfg.extract_normalized(norm, vectors.as_ref().and_then(VectorUse::block), idf_fn, scratch);
            for &(bucket, value) in &scratch.features {
                let next = buckets.len() as u32;
                let f = *vocab.entry(bucket).or_insert(next);
                if f == next {
                    buckets.push(bucket);
                }
                x.index.push(f);
                x.value.push(value);
            }
            x.offsets.push(x.index.len());
            y.push(label as u32);
        };
        let mut noise_rng = crate::text::SplitMix64(options.seed ^ 0x7970_6f73);
        let mut n_written = 0usize;
        for &(text, label) in examples {
            if label >= n_labels {
                continue;
            }
            n_written += 1;
            let norm = normalize(text);
            add(&norm, label, &mut scratch);
            for _ in 0..options.typo_copies {
                let noisy = add_typos(&norm, f64::from(options.typo_rate.clamp(0.0, 1.0)), &mut noise_rng);
                if noisy != norm {
                    add(&noisy, label, &mut scratch);
                }
            }
        }
        let params = SgdParams {
            epochs: if y.is_empty() { 0 } else { options.epochs_for(n_written) },
            learning_rate: options.learning_rate,
            l2: options.l2,
            seed: options.seed,
            label_smoothing: options.label_smoothing.clamp(0.0, 0.99),
        };
        let mut dense = train::softmax_sgd(&x, &y, buckets.len(), n_labels, &params, progress);
        if options.logit_scale > 0.0 && options.logit_scale != 1.0 {
            dense.scale_logits(options.logit_scale);
        }
        let code_of = |b: u32| -> u8 {
            idf_codes.as_ref().and_then(|(codes, _)| codes.get(&b).copied()).unwrap_or(compact::IDF_LEVELS - 1)
        };
        let idf = idf_codes.as_ref().map(|(_, max)| (&code_of as &dyn Fn(u32) -> u8, *max));
        let linear = Compact::from_dense(&dense, &buckets, options.min_weight, options.min_negative_weight, idf);
        IntentClassifier { n_labels, features: cfg, linear, vectors, typo_correction: true }
    }

    /// The static vector table this classifier needs, as `(hash, dimensions)`
    /// ([`StaticVectors::hash`]), if it was trained with one.
    pub fn vectors_required(&self) -> Option<(u64, usize)> {
        self.vectors.as_ref().map(|v| (v.spec.hash, v.spec.dim as usize))
    }

    /// Whether the classifier has everything it needs to predict: no table required, or the
    /// required one attached.
    pub fn is_complete(&self) -> bool {
        self.vectors.as_ref().is_none_or(|v| v.table.is_some())
    }

    /// Attaches the static vector table a loaded classifier was trained with (a deserialized
    /// classifier records only its hash). Without it, such a classifier predicts from the
    /// n-grams alone, which is not what it was trained for. Attaching to a classifier trained
    /// without vectors does nothing.
    ///
    /// # Errors
    /// [`NluError::VectorsMismatch`] when `table` is not the one it was trained with.
    pub fn attach_vectors(&mut self, table: &Arc<dyn SentenceEncoder>) -> Result<(), NluError> {
        let Some(v) = &mut self.vectors else { return Ok(()) };
        if v.spec.hash != table.hash() || v.spec.dim as usize != table.dim() {
            return Err(NluError::VectorsMismatch {
                expected: v.spec.hash,
                expected_dim: v.spec.dim as usize,
                found: table.hash(),
                found_dim: table.dim(),
            });
        }
        v.table = Some(Arc::clone(table));
        Ok(())
    }

    /// Number of labels.
    pub fn n_labels(&self) -> usize {
        self.n_labels
    }

    /// Number of non-zero weights stored (a measure of model size).
    pub fn n_weights(&self) -> usize {
        self.linear.n_weights()
    }

    /// True when `word` (one word as [`crate::text::normalize`] writes them) was a word of the
    /// training examples: its unigram feature kept weights in the model. Pruning drops words
    /// too rare to weigh, and a hash collision can say yes for a word never seen (about one in
    /// `2^hash_bits / rows`). What a list entity's typo tolerance asks before it reads a word
    /// as a misspelling of another ("nummer" is German, not "summer").
    pub fn knows_word(&self, word: &str) -> bool {
        self.linear.has(self.features.word_bucket(word))
    }

    /// `norm` (normalised) with each word of at least 6 letters that the model did not learn
    /// replaced by the learned word one edit away, when there is one and at least 67 % of the
    /// message's words are learned (`nlu/typos.rs`: a candidate is learned when its unigram
    /// and every one of its character n-grams kept weights); `None` when no word changes.
    pub(crate) fn correct_typos(&self, norm: &str) -> Option<String> {
        let mut chars = Vec::new();
        let mut buckets = Vec::new();
        typos::correct(
            norm,
            |word| self.knows_word(word),
            |chars| self.linear.has(self.features.word_bucket_of(chars)),
            |candidate| {
                buckets.clear();
                self.features.char_buckets_of(candidate, &mut chars, &mut buckets);
                buckets.iter().all(|&b| self.linear.has(b))
            },
        )
    }

    /// Turns [`IntentClassifier::predict_with_coverage`]'s typo correction on or off (on by
    /// default): for measuring what it does (`sottovoce eval --no-typo-correction`).
    pub fn set_typo_correction(&mut self, on: bool) {
        self.typo_correction = on;
    }

    /// The feature settings the classifier was trained with.
    pub fn feature_config(&self) -> &FeatureConfig {
        &self.features
    }

    /// Probabilities in [0, 1], one per label in label order, summing to 1 (empty when the
    /// classifier has no labels).
    pub fn predict(&self, text: &str) -> Vec<f32> {
        self.probabilities(&normalize(text))
    }

    /// As [`IntentClassifier::predict`], on a message already analysed: reads its
    /// [`Utterance::normalized`] text instead of normalising it again.
    pub fn predict_utterance(&self, utterance: &Utterance<'_>) -> Vec<f32> {
        self.probabilities(utterance.normalized())
    }

    /// As [`IntentClassifier::predict_utterance`], plus the message's
    /// [`IntentClassifier::coverage`] from the same feature extraction: `(probabilities,
    /// coverage in [0, 1])`. The dialogue's familiar-wording rule reads both
    /// ([`crate::definition::DialogueSettings::accepts`]).
    pub fn predict_with_coverage(&self, utterance: &Utterance<'_>) -> (Vec<f32>, f32) {
        let mut scratch = Scratch::default();
        let block = self.vectors.as_ref().and_then(VectorUse::block);
        let corrected = self.typo_correction.then(|| self.correct_typos(utterance.normalized())).flatten();
        self.extract(corrected.as_deref().unwrap_or(utterance.normalized()), block, &mut scratch);
        let mut scores = vec![0.0f32; self.n_labels];
        self.linear.scores(&scratch.features, &mut scores);
        if !scores.is_empty() {
            train::softmax(&mut scores);
        }
        // Coverage reads the message as written: a corrected word is not the bot's own wording
        // (with the corrections, the familiar-wording rule let through more out-of-scope
        // queries: tests/threshold_calibration.rs).
        if corrected.is_some() {
            self.extract(utterance.normalized(), None, &mut scratch);
        }
        // The dense block (buckets from `dense_base` on, appended last) is known for every
        // text: coverage counts the hashed n-grams only, as `coverage` does.
        if block.is_some() {
            let base = self.features.dense_base();
            scratch.features.retain(|&(b, _)| b < base);
        }
        (scores, self.linear.coverage(&scratch.features))
    }

    /// The features of `normalized` (a text already normalised, [`normalize`]) into
    /// `scratch.features`, as training weighed them: each n-gram by its stored idf when the
    /// model has idf codes ([`TrainOptions::idf`]), with the dense block of `block` when given.
    fn extract(&self, normalized: &str, block: Option<(&dyn SentenceEncoder, f32)>, scratch: &mut Scratch) {
        let idf = |b: u32| self.linear.idf(b).unwrap_or(1.0);
        let idf = self.linear.has_idf().then_some(&idf as &dyn Fn(u32) -> f32);
        self.features.extract_normalized(normalized, block, idf, scratch);
    }

    /// The feature buckets of `texts` (normalised as in training).
    fn buckets_of(&self, texts: &[&str]) -> std::collections::BTreeSet<u32> {
        let mut scratch = Scratch::default();
        let mut out = std::collections::BTreeSet::new();
        for t in texts {
            self.features.extract_with(t, None, &mut scratch);
            out.extend(scratch.features.iter().map(|&(b, _)| b));
        }
        out
    }

    /// A copy of this classifier with only the weights of the hashed feature buckets that
    /// `texts` use: one locale's part of a model file in parts ([`crate::model`]), where
    /// `texts` are that locale's examples. [`IntentClassifier::absorb`] adds it to the
    /// classifier left by [`IntentClassifier::drop_buckets_of`]; parts may overlap.
    pub fn part_for(&self, texts: &[&str]) -> IntentClassifier {
        let used = self.buckets_of(texts);
        let mut copy = self.clone();
        let linear = copy.linear.split_off(|b| used.contains(&b), false);
        IntentClassifier { linear, ..copy }
    }

    /// Drops the weights of the hashed feature buckets that `texts` use (every locale's
    /// examples: what the parts from [`IntentClassifier::part_for`] carry).
    pub fn drop_buckets_of(&mut self, texts: &[&str]) {
        let used = self.buckets_of(texts);
        self.linear.split_off(|b| used.contains(&b), false);
    }

    /// Adds back a part split off this classifier by [`IntentClassifier::split_off`].
    ///
    /// # Errors
    /// [`NluError::PartMismatch`] when the part comes from another classifier or was added
    /// already.
    pub fn absorb(&mut self, part: &IntentClassifier) -> Result<(), NluError> {
        if part.features != self.features {
            return Err(NluError::PartMismatch("its features are configured differently".into()));
        }
        self.linear.absorb(&part.linear)
    }

    /// Softmax of [`IntentClassifier::scores_normalized`].
    fn probabilities(&self, normalized: &str) -> Vec<f32> {
        let mut scores = self.scores_normalized(normalized);
        if !scores.is_empty() {
            train::softmax(&mut scores);
        }
        scores
    }

    /// How familiar `text` is to the model, in [0, 1]: the share of its hashed n-gram feature
    /// mass (squared L2, so each block counts by its weight) that falls on features seen in
    /// training with non-zero weights; the word-vector block, known for every text, is left
    /// out. Out-of-scope queries tend to score low; 0 for an empty text.
    pub fn coverage(&self, text: &str) -> f32 {
        let mut scratch = Scratch::default();
        self.extract(&normalize(text), None, &mut scratch);
        self.linear.coverage(&scratch.features)
    }

    /// Raw label scores (logits) before the softmax, one per label in label order.
    pub fn scores(&self, text: &str) -> Vec<f32> {
        self.scores_normalized(&normalize(text))
    }

    /// As [`IntentClassifier::scores`] on a text already normalised ([`normalize`]).
    fn scores_normalized(&self, normalized: &str) -> Vec<f32> {
        let mut scratch = Scratch::default();
        self.extract(normalized, self.vectors.as_ref().and_then(VectorUse::block), &mut scratch);
        let mut scores = vec![0.0f32; self.n_labels];
        self.linear.scores(&scratch.features, &mut scores);
        scores
    }
}

impl VectorUse {
    /// The table and weight for feature extraction, once the table is attached.
    fn block(&self) -> Option<(&dyn SentenceEncoder, f32)> {
        self.table.as_deref().map(|t| (t, self.spec.weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Vec<(&'static str, usize)> {
        vec![
            ("hello", 0),
            ("hi there", 0),
            ("good morning", 0),
            ("hola buenos dias", 0),
            ("where is my order", 1),
            ("track my package", 1),
            ("has my parcel shipped", 1),
            ("donde esta mi pedido", 1),
            ("i want a refund", 2),
            ("give me my money back", 2),
            ("quiero un reembolso", 2),
            ("refund please", 2),
        ]
    }

    #[test]
    fn learns_and_is_deterministic() {
        let opts = TrainOptions::default();
        let a = IntentClassifier::train(&toy(), 3, &opts);
        let b = IntentClassifier::train(&toy(), 3, &opts);
        assert_eq!(a, b);
        let p = a.predict("¿Dónde está mi paquete?");
        assert_eq!(p.len(), 3);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(p[1] > p[0] && p[1] > p[2], "{p:?}");
        let p = a.predict("can I get a refund");
        assert!(p[2] > 0.5, "{p:?}");
    }

    #[test]
    fn smoothing_flattens_and_scale_sharpens_without_changing_the_best_label() {
        let plain_options = TrainOptions { label_smoothing: 0.0, logit_scale: 1.0, ..TrainOptions::default() };
        let plain = IntentClassifier::train(&toy(), 3, &plain_options);
        let smoothed =
            IntentClassifier::train(&toy(), 3, &TrainOptions { label_smoothing: 0.3, ..plain_options.clone() });
        let top = |c: &IntentClassifier| c.predict("where is my order").into_iter().fold(0.0f32, f32::max);
        assert!(top(&smoothed) < top(&plain), "{} {}", top(&smoothed), top(&plain));
        let scaled = IntentClassifier::train(&toy(), 3, &TrainOptions { logit_scale: 2.0, ..plain_options });
        for text in ["where is my order", "hola", "refund please"] {
            let (a, b) = (plain.scores(text), scaled.scores(text));
            for (x, y) in a.iter().zip(&b) {
                assert!((2.0 * x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{text}: {a:?} {b:?}");
            }
        }
    }

    #[test]
    fn coverage_is_high_for_familiar_wording() {
        let c = IntentClassifier::train(&toy(), 3, &TrainOptions::default());
        let familiar = c.coverage("where is my order");
        let foreign = c.coverage("qwzx vbnk jjjy");
        assert!(familiar > 0.9 && foreign < 0.2, "{familiar} {foreign}");
        assert_eq!(c.coverage("?!"), 0.0);
    }

    #[test]
    fn prediction_with_coverage_is_prediction_and_coverage_in_one_pass() {
        let c = IntentClassifier::train(&toy(), 3, &TrainOptions::default());
        for text in ["where is my order", "qwzx vbnk jjjy", "¿Dónde está mi paquete?", ""] {
            let normalized = normalize(text);
            let utterance = Utterance::analyze(&normalized, "");
            let (probs, coverage) = c.predict_with_coverage(&utterance);
            assert_eq!(probs, c.predict_utterance(&utterance), "{text:?}");
            assert_eq!(coverage, c.coverage(&normalized), "{text:?}");
        }
    }

    #[test]
    fn round_trips_through_postcard() {
        let a = IntentClassifier::train(&toy(), 3, &TrainOptions::default());
        let bytes = postcard::to_allocvec(&a).unwrap();
        let b: IntentClassifier = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.predict("hola"), b.predict("hola"));
    }

    #[test]
    fn vectors_are_recorded_and_the_same_table_must_be_attached() {
        let rows = [vec![0, 0, 1], vec![7, 0, 0], vec![0, 7, 0], vec![0, 0, 7], vec![7, 7, 0]];
        let bytes = vectors::table(&["[UNK]", "order", "refund", "hello", "parcel"], &rows, 4);
        let table: Arc<dyn SentenceEncoder> = Arc::new(StaticVectors::from_bytes(&bytes).unwrap());
        let opts = TrainOptions { vectors: Some(Arc::clone(&table)), ..TrainOptions::default() };
        let c = IntentClassifier::train(&toy(), 3, &opts);
        assert_eq!(c.vectors_required(), Some((table.hash(), 3)));
        assert!(c.is_complete());
        let plain = IntentClassifier::train(&toy(), 3, &TrainOptions::default());
        assert_eq!(plain.vectors_required(), None);
        assert_ne!(c.scores("refund"), plain.scores("refund"), "the dense block takes part");
        assert_eq!(c.coverage("refund"), plain.coverage("refund"), "coverage counts n-grams only");

        let mut back: IntentClassifier = postcard::from_bytes(&postcard::to_allocvec(&c).unwrap()).unwrap();
        assert!(!back.is_complete(), "a loaded classifier records the hash, not the table");
        let other: Arc<dyn SentenceEncoder> = Arc::new(StaticVectors::from_bytes(&vectors::table(&["a"], &[vec![1, 2, 3]], 8)).unwrap());
        match back.attach_vectors(&other) {
            Err(e @ NluError::VectorsMismatch { expected, found, .. }) => {
                assert_eq!((expected, found), (table.hash(), other.hash()));
                assert!(e.to_string().contains(&format!("{:016x}", table.hash())), "{e}");
            }
            r => panic!("expected VectorsMismatch, got {r:?}"),
        }
        back.attach_vectors(&table).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.predict("a refund for my parcel"), c.predict("a refund for my parcel"));
        let mut plain_back = plain.clone();
        plain_back.attach_vectors(&table).unwrap();
        assert_eq!(plain_back, plain, "a classifier without vectors ignores a table");
    }

    /// A sentence encoder from outside the core, as the accuracy tier's is: one dimension per
    /// topic word, so the embedding carries what the n-grams of an unseen word cannot.
    #[derive(Debug)]
    struct TopicEncoder;

    impl SentenceEncoder for TopicEncoder {
        fn hash(&self) -> u64 {
            0x70_91c5
        }

        fn dim(&self) -> usize {
            3
        }

        fn embed_normalized(&self, normalized: &str, out: &mut [f32]) -> bool {
            out.fill(0.0);
            for word in normalized.split(' ') {
                match word {
                    "hello" | "hi" | "hola" | "greetings" => out[0] = 1.0,
                    "order" | "parcel" | "package" | "pedido" | "consignment" => out[1] = 1.0,
                    "refund" | "money" | "reembolso" | "reimbursement" => out[2] = 1.0,
                    _ => {}
                }
            }
            let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt();
            out.iter_mut().for_each(|v| *v /= norm.max(1e-9));
            norm > 0.0
        }
    }

    #[test]
    fn an_encoder_from_outside_the_core_joins_the_features_and_must_be_attached() {
        let encoder: Arc<dyn SentenceEncoder> = Arc::new(TopicEncoder);
        let opts = TrainOptions { vectors: Some(Arc::clone(&encoder)), vector_weight: 1.0, ..TrainOptions::default() };
        let c = IntentClassifier::train(&toy(), 3, &opts);
        assert_eq!(c.vectors_required(), Some((0x70_91c5, 3)));
        // Words no example has: only the encoder knows what they are about.
        let p = c.predict("reimbursement");
        assert!(p[2] > p[0] && p[2] > p[1], "{p:?}");
        let p = c.predict("consignment");
        assert!(p[1] > p[0] && p[1] > p[2], "{p:?}");
        let mut back: IntentClassifier = postcard::from_bytes(&postcard::to_allocvec(&c).unwrap()).unwrap();
        assert!(!back.is_complete());
        back.attach_vectors(&encoder).unwrap();
        assert_eq!(back.predict("reimbursement"), c.predict("reimbursement"));
    }

    #[test]
    fn typo_copies_are_seeded_and_train_the_misspelt_ngrams() {
        let opts = TrainOptions { typo_copies: 2, typo_rate: 0.5, ..TrainOptions::default() };
        let a = IntentClassifier::train(&toy(), 3, &opts);
        assert_eq!(a, IntentClassifier::train(&toy(), 3, &opts));
        let plain = IntentClassifier::train(&toy(), 3, &TrainOptions::default());
        assert!(a.n_weights() > plain.n_weights(), "{} {}", a.n_weights(), plain.n_weights());
        let p = a.predict("wehre is my ordre");
        assert!(p[1] > p[0] && p[1] > p[2], "{p:?}");
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let none = IntentClassifier::train(&[], 2, &TrainOptions::default());
        assert_eq!(none.predict("anything"), vec![0.5, 0.5]);
        let zero = IntentClassifier::train(&[("x", 0)], 0, &TrainOptions::default());
        assert!(zero.predict("x").is_empty());
        let c = IntentClassifier::train(&toy(), 3, &TrainOptions::default());
        let p = c.predict("");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
}
