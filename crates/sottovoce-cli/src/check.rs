//! `sottovoce check`: what an owner should fix in a bot definition before visitors find it.
//!
//! Errors (exit 1): the definition's validation problems, and an example written under two
//! intents in one locale (the classifier is taught both answers for one text). Warnings (exit
//! 0): intents with fewer than `--min-examples` examples in a locale of the bot, and confusable
//! intent pairs, from k-fold cross-validation over the examples ([`crate::crossval`]): pairs
//! whose examples went to each other at least `--min-confusions` times, with those examples.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;
use sottovoce::BotDefinition;

use crate::crossval::{self, Outcome};

/// Arguments of `sottovoce check`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Bot definition (JSON).
    definition: PathBuf,
    /// Folds of the cross-validation (each trains the bot once).
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// An intent with fewer examples than this in a locale is reported.
    #[arg(long, default_value_t = 10)]
    min_examples: usize,
    /// A pair of intents is confusable when this many of their examples went to the other.
    #[arg(long, default_value_t = 3)]
    min_confusions: usize,
    /// Print the findings as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// No progress spinner.
    #[arg(long)]
    quiet: bool,
}

/// An example that cross-validation sent to the other intent of a pair.
#[derive(Serialize)]
pub(crate) struct Confused {
    pub(crate) locale: String,
    pub(crate) text: String,
    /// Intent it is written under.
    pub(crate) intent: String,
    /// Intent the bot chose instead.
    pub(crate) predicted: String,
    /// The bot's confidence in `predicted`, in [0, 1].
    pub(crate) confidence: f32,
}

/// Two intents whose examples cross-validation confused.
#[derive(Serialize)]
pub(crate) struct ConfusablePair {
    pub(crate) a: String,
    pub(crate) b: String,
    /// Examples of `a` predicted as `b`, and of `b` as `a`.
    pub(crate) a_as_b: usize,
    pub(crate) b_as_a: usize,
    pub(crate) examples: Vec<Confused>,
}

/// Everything `check` found.
#[derive(Serialize, Default)]
pub(crate) struct Findings {
    /// Validation problems and duplicated examples: exit 1.
    pub(crate) errors: Vec<String>,
    /// Thin intents: exit 0.
    pub(crate) warnings: Vec<String>,
    /// Confusable pairs, most confused first: warnings too.
    pub(crate) confusable: Vec<ConfusablePair>,
    /// In-scope examples whose best intent under cross-validation was their own, in [0, 1].
    pub(crate) cross_validation_accuracy: Option<f64>,
    pub(crate) folds: usize,
}

/// The static findings: examples under two intents, thin intents.
fn static_findings(def: &BotDefinition, min_examples: usize, findings: &mut Findings) {
    // (locale, folded text) → intents it is written under
    let mut seen: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for intent in &def.intents {
        for locale in &def.locales {
            let examples = intent.examples.get(locale).map(Vec::as_slice).unwrap_or_default();
            for e in examples {
                let key = sottovoce::text::to_lowercase(crossval::plain(e).trim());
                let names = seen.entry((locale.clone(), key)).or_default();
                if !names.contains(&intent.name.as_str()) {
                    names.push(&intent.name);
                }
            }
            if examples.len() < min_examples {
                findings.warnings.push(format!(
                    "intent `{}` has {} example(s) in {locale} (fewer than {min_examples}): it will be hard to recognise there",
                    intent.name,
                    examples.len()
                ));
            }
        }
    }
    for ((locale, text), names) in seen {
        if names.len() > 1 {
            findings.errors.push(format!("example {text:?} ({locale}) is written under intents {}", names.join(", ")));
        }
    }
}

/// The confusable pairs among `outcomes`, most confused first.
pub(crate) fn confusable(def: &BotDefinition, outcomes: &[Outcome], min_confusions: usize) -> Vec<ConfusablePair> {
    let mut pairs: BTreeMap<(usize, usize), ConfusablePair> = BTreeMap::new();
    for o in outcomes {
        let Some(gold) = o.scored.gold else { continue };
        let predicted = o.scored.label;
        if predicted == gold {
            continue;
        }
        let key = (gold.min(predicted), gold.max(predicted));
        let name = |i: usize| def.intents[i].name.clone();
        let pair = pairs.entry(key).or_insert_with(|| ConfusablePair { a: name(key.0), b: name(key.1), a_as_b: 0, b_as_a: 0, examples: Vec::new() });
        if gold == key.0 {
            pair.a_as_b += 1;
        } else {
            pair.b_as_a += 1;
        }
        pair.examples.push(Confused {
            locale: o.locale.clone(),
            text: o.text.clone(),
            intent: name(gold),
            predicted: name(predicted),
            confidence: o.scored.probability,
        });
    }
    let mut list: Vec<ConfusablePair> = pairs.into_values().filter(|p| p.a_as_b + p.b_as_a >= min_confusions).collect();
    list.sort_by_key(|p| std::cmp::Reverse(p.a_as_b + p.b_as_a));
    list
}

/// Everything `check` finds in the definition at `path`.
///
/// # Errors
/// When the file cannot be read or is not a definition (its syntax), or a fold does not train.
pub(crate) fn findings(args: &Args) -> anyhow::Result<Findings> {
    let path = &args.definition;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let def = BotDefinition::parse(&text).with_context(|| path.display().to_string())?;
    let mut findings = Findings { folds: args.folds, ..Findings::default() };
    findings.errors.extend(def.validate().iter().map(ToString::to_string));
    static_findings(&def, args.min_examples, &mut findings);
    if !def.validate().is_empty() {
        return Ok(findings);
    }
    let outcomes = crossval::cross_validate(&def, args.folds, args.quiet)?;
    let in_scope: Vec<&Outcome> = outcomes.iter().filter(|o| o.scored.gold.is_some()).collect();
    let right = in_scope.iter().filter(|o| o.scored.gold == Some(o.scored.label)).count();
    findings.cross_validation_accuracy = Some(right as f64 / in_scope.len().max(1) as f64);
    findings.confusable = confusable(&def, &outcomes, args.min_confusions);
    Ok(findings)
}

/// Runs `sottovoce check`; exits 1 when there are errors.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let findings = findings(&args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else {
        println!("sottovoce check: {}", args.definition.display());
        for e in &findings.errors {
            println!("  error: {e}");
        }
        for w in &findings.warnings {
            println!("  warning: {w}");
        }
        if let Some(acc) = findings.cross_validation_accuracy {
            println!(
                "  {}-fold cross-validation: {:.1} % of examples go to their own intent ({:.1} s)",
                findings.folds,
                acc * 100.0,
                started.elapsed().as_secs_f64()
            );
        }
        for p in &findings.confusable {
            println!("  warning: intents `{}` and `{}` are confusable: {} of `{}` went to `{}`, {} the other way", p.a, p.b, p.a_as_b, p.a, p.b, p.b_as_a);
            for e in &p.examples {
                println!("      {} ({}) -> {} ({:.2})", e.text, e.locale, e.predicted, e.confidence);
            }
        }
        println!("{} error(s), {} warning(s)", findings.errors.len(), findings.warnings.len() + findings.confusable.len());
    }
    if !findings.errors.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
