//! Slots learned from annotated examples: inline markup, a trained sequence labeller, scoring.
//!
//! Owners write examples with Rasa-style inline markup, `fly to [Boston](city) on
//! [friday](date)`. [`parse_markup`] turns such a line into plain text plus character spans.
//! [`SlotTagger`] learns from those spans, tagging every token with a BIO label (`B-city`,
//! `I-city`, `O`) and decoding the best label sequence with the Viterbi algorithm. [`score`]
//! compares predicted spans with gold ones (exact span and label, micro-averaged), per slot and
//! overall, the way the SNIPS 2017 benchmark reports slot filling.
//!
//! # Design
//! - The learner is an averaged structured perceptron (Collins 2002, "Discriminative Training
//!   Methods for Hidden Markov Models: Theory and Experiments with Perceptron Algorithms",
//!   EMNLP): the same first-order chain model and Viterbi decoding as a linear-chain CRF
//!   (Lafferty, McCallum and Pereira 2001), trained by mistake-driven updates instead of
//!   gradient steps on a log-likelihood, which needs no forward-backward pass and no learning
//!   rate. Averaging the weights over all steps (Freund and Schapire 1999) is what makes it
//!   generalise nearly as well as a CRF.
//! - Features are hashed ("hashing trick", Weinberger et al. 2009): each (feature, tag) pair maps
//!   to one cell of a weight table whose size grows with the training data, so there is no
//!   feature dictionary to ship. The model file stores only non-zero cells, quantised to 16 bits,
//!   and at most the 65,536 largest (the rest are mostly rare features seen once).
//! - One model serves every intent: the intent is an input. Each intent may only produce the
//!   slots it was annotated with in training, and intent-conjoined features let the same word
//!   mean different slots under different intents (a "playlist" to add to vs one to play).
//!   One training step in ten hides the intent and allows every slot, so the tagger also works
//!   when the intent is unknown (`tag(text, None)`).
//! - Gazetteer features come from the training values of each slot. While training, a sentence
//!   only sees values from the other folds of the data, so the model learns how far a gazetteer
//!   match can be trusted for a value it has not seen, as at test time.
//! - Measured on SNIPS 2017 (13,784 training queries, 700 test queries, 39 slots, one model for
//!   the 7 intents, gold intent given): micro F1 96.7, mean of the per-intent F1 96.6 (the Snips
//!   engine published 90.7 trained per intent); 93.7 micro F1 without the intent. See
//!   `tests/slots_snips.rs`.
//! - Pure and deterministic: no threads, no clock, no OS randomness; the seed in
//!   [`SlotTrainOptions`] fixes the example order, so the same data gives the same model.

mod features;
mod markup;
mod score;
mod tagger;

pub use markup::{parse_markup, Annotated};
pub(crate) use markup::plain_text;
pub use score::{mean_f1_by_group, score, Prf, SlotScores};
pub use tagger::{SlotExample, SlotTagger, SlotTrainOptions};

use serde::{Deserialize, Serialize};

/// One slot value in a text: the slot name, the text it covers and where.
///
/// Offsets are in Unicode scalar values (chars) of the plain text, end exclusive, the
/// convention of [`crate::entities::Entity`] and of the SNIPS data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotSpan {
    /// Slot name, such as `city`.
    pub slot: String,
    /// The covered text, exactly as it appears.
    pub value: String,
    /// Start offset in chars.
    pub start: usize,
    /// End offset in chars, exclusive.
    pub end: usize,
}

/// What can go wrong reading slot markup or training a slot tagger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// A `[` opens a value that is never closed by `]`.
    #[error("unclosed `[` at char {at}: {text:?}")]
    UnclosedBracket {
        /// The text from the `[` to the end of the line.
        text: String,
        /// Char offset of the `[` in the annotated line.
        at: usize,
    },
    /// A `[` inside another `[...]`.
    #[error("nested `[` at char {at}: {text:?}")]
    NestedBracket {
        /// The text from the outer `[` to the inner one.
        text: String,
        /// Char offset of the inner `[` in the annotated line.
        at: usize,
    },
    /// `[value]` is not followed by `(label)`.
    #[error("`[...]` at char {at} is not followed by `(slot)`: {text:?}")]
    MissingLabel {
        /// The bracketed text and what follows it.
        text: String,
        /// Char offset of the `[` in the annotated line.
        at: usize,
    },
    /// `[value](` is never closed by `)`.
    #[error("unclosed `(` after `[...]` at char {at}: {text:?}")]
    UnclosedLabel {
        /// The text from the `[` to the end of the line.
        text: String,
        /// Char offset of the `[` in the annotated line.
        at: usize,
    },
    /// `[value]()` or `[value]( )`: the slot name is empty.
    #[error("empty slot name at char {at}: {text:?}")]
    EmptyLabel {
        /// The whole `[value](label)` markup.
        text: String,
        /// Char offset of the `[` in the annotated line.
        at: usize,
    },
    /// A slot name with a char other than letters, digits, `_`, `-` and `.` (Rasa's legacy
    /// synonym form `[NYC](city:New York)` lands here).
    #[error("slot name {label:?} at char {at} may only hold letters, digits, `_`, `-` and `.`: {text:?}")]
    InvalidLabel {
        /// The whole `[value](label)` markup.
        text: String,
        /// The slot name as written.
        label: String,
        /// Char offset of the `[` in the annotated line.
        at: usize,
    },
    /// `[](label)` or `[ ](label)`: nothing to tag.
    #[error("empty value at char {at}: {text:?}")]
    EmptyValue {
        /// The whole `[value](label)` markup.
        text: String,
        /// Char offset of the `[` in the annotated line.
        at: usize,
    },
    /// A training span lies outside its text, is empty, or overlaps the previous span.
    #[error("example {example}: bad span {start}..{end} for slot {slot:?} in {text:?} ({reason})")]
    BadSpan {
        /// Index of the example in the training slice.
        example: usize,
        /// The example's text.
        text: String,
        /// The span's slot name.
        slot: String,
        /// Start char offset.
        start: usize,
        /// End char offset, exclusive.
        end: usize,
        /// What is wrong: `empty`, `past the end` or `overlaps another span`.
        reason: &'static str,
    },
    /// More distinct slot names than the tagger supports (32,767).
    #[error("too many slot names: {0}")]
    TooManySlots(usize),
}
