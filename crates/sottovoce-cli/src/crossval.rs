//! k-fold cross-validation of a bot definition over its own examples, shared by `check` and
//! `report`: each fold trains the owner's definition (every field as written) without its
//! share of the examples and scores that share with `eval`'s scoring ([`crate::eval::score_one`],
//! the bot's own intent ranking), so nothing here re-implements training or scoring.
//!
//! Folds are stratified: the j-th example of an intent in a locale goes to fold `j % k`. An
//! intent with fewer than two examples is never held out (a fold must keep it trainable).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use sottovoce::definition::OUT_OF_SCOPE_INTENT;
use sottovoce::nlu::SentenceEncoder;
use sottovoce::{Bot, BotDefinition};

use crate::eval::{score_one, LabelOf, Scored};

/// One example of the definition, scored by a bot that did not train on it.
pub(crate) struct Outcome {
    /// Index of its intent in the definition's `intents`.
    pub(crate) intent: usize,
    /// The locale it is written under.
    pub(crate) locale: String,
    /// The text a visitor would type (slot markup resolved).
    pub(crate) text: String,
    /// The bot's best in-scope intent (an index into `intents`) and confidence; `gold` is `None`
    /// for an example of [`OUT_OF_SCOPE_INTENT`].
    pub(crate) scored: Scored,
}

/// Reads and validates a definition; errors name the file.
///
/// # Errors
/// When the file cannot be read or the definition does not validate.
pub(crate) fn read_definition(path: &Path) -> anyhow::Result<BotDefinition> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    BotDefinition::from_json(&text).with_context(|| path.display().to_string())
}

/// The word-vector table the definition names, built into this binary, or `None`.
fn vectors_of(definition: &BotDefinition) -> anyhow::Result<Option<Arc<dyn SentenceEncoder>>> {
    definition.word_vectors.as_deref().map(crate::build::shipped_encoder).transpose()
}

/// The intents by name → index, without the out-of-scope intent (what [`Scored::label`] means).
pub(crate) fn label_of(definition: &BotDefinition) -> LabelOf {
    definition
        .intents
        .iter()
        .enumerate()
        .filter(|(_, i)| i.name != OUT_OF_SCOPE_INTENT)
        .map(|(k, i)| (i.name.clone(), k))
        .collect()
}

/// The plain text of an example line (its `[value](slot)` markup resolved).
pub(crate) fn plain(example: &str) -> String {
    sottovoce::slots::parse_markup(example).map(|a| a.text).unwrap_or_else(|_| example.to_owned())
}

/// Trains the whole definition as `build` does.
///
/// # Errors
/// When it does not train.
pub(crate) fn train(definition: &BotDefinition, quiet: bool) -> anyhow::Result<Bot> {
    crate::eval::train_bot(definition.clone(), vectors_of(definition)?.as_ref(), "training", quiet)
}

/// Scores every example with a bot trained on the other `folds - 1` folds. Returns the outcomes
/// in definition order (intent, then locale, then example).
///
/// # Errors
/// When `folds < 2`, or a fold's definition does not train.
pub(crate) fn cross_validate(definition: &BotDefinition, folds: usize, quiet: bool) -> anyhow::Result<Vec<Outcome>> {
    anyhow::ensure!(folds >= 2, "cross-validation needs at least 2 folds");
    let vectors = vectors_of(definition)?;
    let labels = label_of(definition);
    let mut outcomes = Vec::new();
    for fold in 0..folds {
        let mut train = definition.clone();
        let mut held = Vec::new();
        for (i, intent) in train.intents.iter_mut().enumerate() {
            if intent.examples.values().map(Vec::len).sum::<usize>() < 2 {
                continue;
            }
            for (locale, examples) in &mut intent.examples {
                let mut j = 0;
                examples.retain(|e| {
                    let keep = j % folds != fold;
                    if !keep {
                        held.push((i, locale.clone(), plain(e)));
                    }
                    j += 1;
                    keep
                });
            }
        }
        let bot = crate::eval::train_bot(train, vectors.as_ref(), &format!("cross-validation fold {}/{folds}", fold + 1), quiet)
            .with_context(|| format!("fold {} of {folds}", fold + 1))?;
        for (intent, locale, text) in held {
            let gold = (definition.intents[intent].name != OUT_OF_SCOPE_INTENT).then_some(intent);
            let scored = score_one(&bot, &labels, &text, gold);
            outcomes.push(Outcome { intent, locale, text, scored });
        }
    }
    outcomes.sort_by(|a, b| (a.intent, &a.locale).cmp(&(b.intent, &b.locale)));
    Ok(outcomes)
}
