//! `sottovoce eval`: train on a JSONL split, test on another, report accuracy, speed and size.
//!
//! Protocol (issue 3): the classifier trains with the widget's default options on `--train`.
//! Rows labelled `oos` there are the owner's examples of what the bot does not handle: they
//! train one more intent, the reserved [`OUT_OF_SCOPE_INTENT`], which the widget treats as the
//! fallback. A query is out-of-scope when that intent wins or the best in-scope confidence is
//! below a threshold; the threshold is the one thing chosen from
//! data, on `--val` (or, without it, on a tenth of train held out per intent), by the criterion
//! `--oos-criterion` names ([`Criterion`]): by default the balanced accuracy (the mean of
//! in-scope accuracy and out-of-scope recall), which does not depend on how many out-of-scope
//! queries val happens to hold. Test data is only ever scored; the report also gives the test
//! figures of the rule that maximises val accuracy instead, the rule published peers use.
//!
//! What is measured is what ships (issue 10): the splits become a bot definition, trained by
//! `Bot::train_with_vectors` exactly as the widget trains one; test queries go through
//! `Bot::classify` (the intent ranking) and `Bot::understand` (the widget's decision), and the
//! threshold chosen on val is written into the definition (`threshold`), so the bot applies it
//! itself. The run fails if the bot's own out-of-scope decision ever differs from the rule the
//! report scores.
//!
//! Locales (issue 19): a row may carry `"locale"` (BCP 47). When any training row does, the
//! bot gets one locale per tag seen in train (first seen first; a row without one is in the
//! first) and its examples under their locale, so `Bot::train` trains its locale classifier on
//! them as it does for any definition; the report then adds `locale_accuracy` (the locale
//! `Bot::understand` detects, over test rows with a locale) and the in-scope intent accuracy
//! per locale.

use crate::gzip::gzip_len;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Deserialize;
use sottovoce::definition::OUT_OF_SCOPE_INTENT;
use sottovoce::{Bot, BotDefinition, SentenceEncoder, StaticVectors};
use sottovoce::nlu::add_typos;
use sottovoce::text::SplitMix64 as Rng;

// Slot scoring lives beside this file (written by the slots engineer); it runs when the
// splits carry `entities`.
#[path = "eval_slots.rs"]
mod slots;

/// The label that marks out-of-scope queries.
pub(crate) const OOS: &str = "oos";

/// Arguments of `sottovoce eval`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Training split: JSONL, one `{"text": ..., "intent": ...}` per line (`oos` = out of scope),
    /// optionally with `"locale": "es"` (then locale accuracy and accuracy per locale are reported).
    #[arg(long, value_name = "TRAIN.jsonl", required_unless_present = "catalog")]
    train: Option<PathBuf>,
    /// Test split, same format; only scored, never used to choose anything.
    #[arg(long, value_name = "TEST.jsonl", required_unless_present = "catalog")]
    test: Option<PathBuf>,
    /// Recommendations instead of intents: `--catalog`, `--queries`, `--qrels`.
    #[command(flatten)]
    catalog: crate::eval_catalog::CatalogArgs,
    /// Validation split for choosing the out-of-scope threshold (default: a tenth of train).
    #[arg(long, value_name = "VAL.jsonl")]
    val: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "OUT.json")]
    json: Option<PathBuf>,
    /// Also write the model file that was measured (loadable by `sottovoce chat` and the widget).
    #[arg(long, value_name = "OUT.svm")]
    model: Option<PathBuf>,
    /// Also write the bot definition (JSON) inside that model file, for training in a page.
    #[arg(long, value_name = "OUT.json")]
    definition: Option<PathBuf>,
    /// Corrupt the test queries before scoring: `typos` swaps, drops or doubles one character
    /// in 10% of words.
    #[arg(long, value_enum)]
    noise: Option<Noise>,
    /// Seed of the noise.
    #[arg(long, default_value_t = 1)]
    noise_seed: u64,
    /// Turn off the intent classifier's typo correction (a word the model never learned, one
    /// edit from one it did, read as that word), on in every bot: to measure what it does.
    #[arg(long)]
    no_typo_correction: bool,
    /// How the out-of-scope rule is chosen on val (or the held-out tenth of train).
    #[arg(long, value_enum, default_value_t = Criterion::Balanced)]
    oos_criterion: Criterion,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Add the sentence vector of the shipped word-vector table (minilm-l6-d64, built into this
    /// binary) to the n-gram features, as a definition with `"word_vectors"` does. Default:
    /// n-grams only, as a definition without it (the widget's default).
    #[arg(long)]
    vectors: bool,
    /// As `--vectors`, with another table (`SVVEC1`, from `scripts/distill-vectors.py export`).
    #[arg(long, value_name = "TABLE.svvec")]
    vectors_file: Option<PathBuf>,
    /// The accuracy tier: join the sentence embedding of all-MiniLM-L6-v2, read from this
    /// directory (`make encoder-weights` puts it in `target/encoder/all-MiniLM-L6-v2`), to the
    /// n-gram features, as a definition with `"word_vectors": "all-minilm-l6-v2"` does, through
    /// the copy of the encoder that `sottovoce build --encoder` would write for a bot trained on
    /// `--train` (int8 weights, the vocabulary pruned to `--encoder-vocab` first token ids and
    /// the training examples' tokens): what the widget runs. Embeddings are cached in the
    /// directory (`embeddings-<hash>-corrected-erf32.bin`).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["vectors", "vectors_file"])]
    encoder: Option<PathBuf>,
    /// With `--encoder`: the float weights and the whole vocabulary instead of a bot's copy, to
    /// measure what rounding and pruning cost.
    #[arg(long, requires = "encoder")]
    encoder_float: bool,
    /// With `--encoder`: the first token ids a bot's copy keeps besides its examples' tokens
    /// (default 3000, what `sottovoce build --encoder` keeps), to choose that number on val.
    #[arg(long, value_name = "N", requires = "encoder", conflicts_with = "encoder_float")]
    encoder_vocab: Option<usize>,
    /// With `--encoder`: the most the bot's copy may weigh, gzip bytes (default
    /// 11,880,000, what `sottovoce build --encoder` keeps within), to choose it on val.
    #[arg(long, value_name = "BYTES", requires = "encoder", conflicts_with = "encoder_float")]
    encoder_budget: Option<usize>,
    /// With `--encoder`: weigh its block this many times the weight the definition's table
    /// gives it (1.0 there), to choose that weight on val. Default 1.
    #[arg(long, value_name = "K", default_value_t = 1.0, requires = "encoder")]
    encoder_scale: f32,
    /// Threads that embed with `--encoder` (default: the machine's cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// What the out-of-scope rule maximises on val.
///
/// CLINC150's val holds 3% out-of-scope queries and its test 18%; a deployed bot's share is
/// unknown and changes with the site. Accuracy over val rows weighs the out-of-scope queries
/// by val's share, so it picks a low threshold that catches few of them; the balanced accuracy
/// weighs the two kinds of error alike whatever their shares, the same criterion that
/// calibrates the widget's default threshold (`tests/threshold_calibration.rs`).
#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
enum Criterion {
    /// Mean of in-scope accuracy (right intent, not rejected) and out-of-scope recall.
    Balanced,
    /// Accuracy over all val rows with out-of-scope as one more class (the peers' protocol in
    /// ../shared/data/README.md).
    ValAccuracy,
}

impl Criterion {
    /// The name used in the JSON report.
    fn name(self) -> &'static str {
        match self {
            Criterion::Balanced => "balanced_accuracy",
            Criterion::ValAccuracy => "val_accuracy",
        }
    }
}

/// Kinds of test-set corruption.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Noise {
    /// Swap, drop or double one character in 10% of words.
    Typos,
}

/// One JSONL row.
#[derive(Deserialize)]
pub(crate) struct Row {
    pub(crate) text: String,
    pub(crate) intent: String,
    /// The row's locale (BCP 47), optional.
    #[serde(default)]
    pub(crate) locale: Option<String>,
}

/// Reads a JSONL split; errors name the file and the line.
pub(crate) fn read_split(path: &Path) -> anyhow::Result<Vec<Row>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: cannot read line", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(&line).with_context(|| {
            format!("{}:{}: expected {{\"text\": ..., \"intent\": ...}}", path.display(), i + 1)
        })?;
        rows.push(row);
    }
    if rows.is_empty() {
        bail!("{}: the split is empty (no JSONL rows)", path.display());
    }
    Ok(rows)
}

/// Predictions for scoring: best in-scope label, its probability, the query's n-gram coverage
/// in [0, 1] ([`Bot::classify_with_coverage`]), and whether the trained out-of-scope intent
/// beat it; gold `None` = out of scope.
#[derive(Clone, Copy)]
pub(crate) struct Scored {
    pub(crate) gold: Option<usize>,
    pub(crate) label: usize,
    pub(crate) probability: f32,
    pub(crate) coverage: f32,
    pub(crate) out_of_scope_wins: bool,
}

impl Scored {
    /// Whether `rule` declares the query out-of-scope: what `Bot::understand` decides with the
    /// rule's settings in the definition.
    pub(crate) fn rejected(&self, rule: Rule) -> bool {
        self.out_of_scope_wins || !rule.settings().accepts(self.probability, self.coverage)
    }
}

/// The bot's intents by name → the split's label index (the out-of-scope intent has none).
pub(crate) type LabelOf = BTreeMap<String, usize>;

/// Scores one text with the bot's own intent ranking ([`Bot::classify`]).
pub(crate) fn score_one(bot: &Bot, label_of: &LabelOf, text: &str, gold: Option<usize>) -> Scored {
    let (ranking, coverage) = bot.classify_with_coverage(text);
    let out_of_scope_wins = ranking.first().is_some_and(|(name, _)| name == OUT_OF_SCOPE_INTENT);
    let (label, probability) = ranking
        .iter()
        .find_map(|(name, p)| label_of.get(name).map(|&l| (l, *p)))
        .unwrap_or((0, 0.0));
    Scored { gold, label, probability, coverage, out_of_scope_wins }
}

fn score(bot: &Bot, label_of: &LabelOf, rows: &[(String, Option<usize>)]) -> Vec<Scored> {
    rows.iter().map(|(text, gold)| score_one(bot, label_of, text, *gold)).collect()
}

/// How a query is declared out-of-scope: the out-of-scope intent wins, or the bot would not
/// act on its best in-scope intent: probability below `threshold`, unless at least
/// `familiar_threshold` with coverage at least `familiar_coverage` (the bot's rule,
/// [`sottovoce::definition::DialogueSettings::accepts`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rule {
    pub(crate) threshold: f32,
    pub(crate) familiar_threshold: f32,
    pub(crate) familiar_coverage: f32,
}

impl Rule {
    /// The threshold alone: the familiar-wording rule off.
    pub(crate) fn alone(threshold: f32) -> Rule {
        Rule { threshold, familiar_threshold: 1.0, familiar_coverage: 1.0 }
    }

    /// The rule `bot` runs.
    pub(crate) fn of(bot: &Bot) -> Rule {
        let s = bot.settings();
        Rule { threshold: s.threshold, familiar_threshold: s.familiar_threshold, familiar_coverage: s.familiar_coverage }
    }

    /// The dialogue settings that decide as this rule does.
    fn settings(self) -> sottovoce::definition::DialogueSettings {
        sottovoce::definition::DialogueSettings {
            threshold: self.threshold,
            familiar_threshold: self.familiar_threshold,
            familiar_coverage: self.familiar_coverage,
            ..sottovoce::definition::DialogueSettings::DEFAULT
        }
    }

    /// Whether the familiar-wording rule can accept anything below the threshold.
    fn familiar_on(self) -> bool {
        self.familiar_threshold < self.threshold
    }
}

/// The familiar-wording settings `choose_rule` tries beside the threshold alone:
/// `familiar_threshold` 0.10 to 0.50 by 0.05, `familiar_coverage` 0.60 to 0.95 by 0.05.
fn familiar_grid() -> impl Iterator<Item = (f32, f32)> {
    (0..9).flat_map(|i| (0..8).map(move |j| (0.10 + 0.05 * i as f32, 0.60 + 0.05 * j as f32)))
}

/// Accuracy with out-of-scope as a class: below the rule's threshold the prediction is
/// out-of-scope.
fn overall_accuracy(scored: &[Scored], rule: Rule) -> f64 {
    let ok = scored
        .iter()
        .filter(|s| match s.gold {
            None => s.rejected(rule),
            Some(g) => !s.rejected(rule) && s.label == g,
        })
        .count();
    ok as f64 / scored.len().max(1) as f64
}

/// In-scope accuracy (right intent and not rejected) and out-of-scope recall under `rule`, in
/// [0, 1]; 0 for a kind with no rows.
pub(crate) fn rates(scored: &[Scored], rule: Rule) -> (f64, f64) {
    let (mut n_in, mut in_ok, mut n_oos, mut oos_ok) = (0usize, 0usize, 0usize, 0usize);
    for s in scored {
        match s.gold {
            None => {
                n_oos += 1;
                oos_ok += usize::from(s.rejected(rule));
            }
            Some(g) => {
                n_in += 1;
                in_ok += usize::from(!s.rejected(rule) && s.label == g);
            }
        }
    }
    (in_ok as f64 / n_in.max(1) as f64, oos_ok as f64 / n_oos.max(1) as f64)
}

/// What `criterion` scores for `rule` on `scored`, in [0, 1].
fn criterion_score(scored: &[Scored], rule: Rule, criterion: Criterion) -> f64 {
    match criterion {
        Criterion::ValAccuracy => overall_accuracy(scored, rule),
        Criterion::Balanced => {
            let (in_ok, oos_ok) = rates(scored, rule);
            (in_ok + oos_ok) / 2.0
        }
    }
}

/// The rule that maximises `criterion`: the threshold alone, or with each familiar-wording
/// setting of [`familiar_grid`] (a rule whose familiar threshold is not below its threshold is
/// the threshold alone, and skipped). Every threshold at which a query's decision changes is
/// tried; ties go to the threshold alone, then to the lower threshold.
fn choose_rule(scored: &[Scored], criterion: Criterion) -> Rule {
    let mut best = Rule::alone(0.0);
    let mut best_acc = -1.0;
    let mut candidates: Vec<f32> = scored.iter().filter(|s| !s.out_of_scope_wins).map(|s| s.probability).collect();
    candidates.push(0.0);
    candidates.sort_by(f32::total_cmp);
    candidates.dedup();
    let familiar = std::iter::once((1.0, 1.0)).chain(familiar_grid());
    for (familiar_threshold, familiar_coverage) in familiar {
        for &threshold in &candidates {
            let rule = Rule { threshold, familiar_threshold, familiar_coverage };
            if familiar_threshold < 1.0 && !rule.familiar_on() {
                continue;
            }
            let acc = criterion_score(scored, rule, criterion);
            if acc > best_acc {
                best_acc = acc;
                best = rule;
            }
        }
    }
    best
}

/// Per label: (true positives, false positives, false negatives) of `(gold, predicted)` pairs.
pub(crate) fn label_counts(pairs: &[(usize, usize)], n_labels: usize) -> Vec<(usize, usize, usize)> {
    let mut counts = vec![(0usize, 0usize, 0usize); n_labels];
    for &(gold, pred) in pairs {
        if gold == pred {
            counts[gold].0 += 1;
        } else {
            counts[pred].1 += 1;
            counts[gold].2 += 1;
        }
    }
    counts
}

/// Precision, recall and F1 in [0, 1] from (tp, fp, fn); 0 where undefined.
pub(crate) fn precision_recall_f1((tp, fp, fn_): (usize, usize, usize)) -> (f64, f64, f64) {
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    (ratio(tp, tp + fp), ratio(tp, tp + fn_), ratio(2 * tp, 2 * tp + fp + fn_))
}

/// Macro-averaged F1 over the labels that occur in gold or predictions (scikit-learn's rule).
pub(crate) fn macro_f1(pairs: &[(usize, usize)], n_labels: usize) -> f64 {
    let occurring: Vec<f64> = label_counts(pairs, n_labels)
        .into_iter()
        .filter(|&(tp, fp, fn_)| tp + fp + fn_ > 0)
        .map(|c| precision_recall_f1(c).2)
        .collect();
    if occurring.is_empty() {
        0.0
    } else {
        occurring.iter().sum::<f64>() / occurring.len() as f64
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// Trains the bot for `definition` as the widget does ([`Bot::train_with_vectors`]), with a
/// spinner unless `quiet`.
pub(crate) fn train_bot(definition: BotDefinition, vectors: Option<&std::sync::Arc<dyn SentenceEncoder>>, message: &str, quiet: bool) -> anyhow::Result<Bot> {
    let bar = if quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new_spinner() };
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let bot = Bot::train_with_vectors(definition, vectors).context("the evaluation's bot does not train")?;
    bar.finish_and_clear();
    Ok(bot)
}

/// [`train_bot`], with the typo correction on or off as `--no-typo-correction` says.
fn train_eval_bot(definition: BotDefinition, vectors: Option<&std::sync::Arc<dyn SentenceEncoder>>, message: &str, args: &Args) -> anyhow::Result<Bot> {
    let mut bot = train_bot(definition, vectors, message, args.quiet)?;
    bot.set_typo_correction(!args.no_typo_correction);
    Ok(bot)
}

/// The bot definition for this data: one intent per label with its training examples (the
/// out-of-scope rows as the reserved [`OUT_OF_SCOPE_INTENT`]), `rule` (its threshold and
/// familiar-wording settings), and `vectors`, the
/// dense-block source it names in `word_vectors` (a name in
/// [`sottovoce::definition::WORD_VECTOR_TABLES`]). Returns it with the intents' names → label
/// index.
fn eval_definition(
    labels: &[String],
    n_in: usize,
    train: &[(String, usize, String)],
    rule: Rule,
    vectors: Option<&str>,
) -> anyhow::Result<(BotDefinition, LabelOf)> {
    // Intent names in the definition's alphabet (a-z, 0-9, _), unique. Built as JSON (the
    // authored format) so that fields added to the definition later take their defaults.
    let mut names = std::collections::BTreeSet::new();
    let mut label_of = LabelOf::new();
    // Examples are plain text, not slot markup: escape what markup would read.
    let mut locales: Vec<&str> = Vec::new();
    let mut examples: Vec<serde_json::Map<String, serde_json::Value>> = vec![serde_json::Map::new(); labels.len()];
    for (text, label, locale) in train {
        if !locales.contains(&locale.as_str()) {
            locales.push(locale);
        }
        let mut escaped = String::with_capacity(text.len());
        for c in text.chars() {
            if matches!(c, '[' | ']' | '(' | ')' | '\\') {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        let list = examples[*label].entry(locale.clone()).or_insert_with(|| serde_json::json!([]));
        if let serde_json::Value::Array(list) = list {
            list.push(escaped.into());
        }
    }
    let intents: Vec<serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            if i == n_in {
                return serde_json::json!({"name": OUT_OF_SCOPE_INTENT, "examples": examples[i]});
            }
            let mut name: String = label
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
                .collect();
            if name.is_empty() || name == OUT_OF_SCOPE_INTENT || !names.insert(name.clone()) {
                name = format!("{name}_{i}");
                names.insert(name.clone());
            }
            label_of.insert(name.clone(), i);
            serde_json::json!({"name": name, "examples": examples[i], "reply": {"message": "answer"}})
        })
        .collect();
    let mut definition = serde_json::json!({
        "format": sottovoce::definition::DEFINITION_FORMAT,
        "id": "eval",
        "name": "eval",
        "locales": locales,
        "threshold": rule.threshold,
        "dialogue": {"familiar_threshold": rule.familiar_threshold, "familiar_coverage": rule.familiar_coverage},
        "intents": intents,
        "messages": locales.iter().map(|l| (l.to_string(), serde_json::json!({"answer": "Understood.", "fallback": "Sorry?", "greeting": "Hello.", "returning": "Welcome back."}))).collect::<serde_json::Map<_, _>>(),
        "fallback": {"message": "fallback"},
        "greeting": {"message": "greeting", "returning": "returning"},
    });
    if let Some(name) = vectors {
        definition["word_vectors"] = serde_json::json!(name);
    }
    let definition = BotDefinition::from_json(&definition.to_string())
        .context("the evaluation's bot definition does not validate")?;
    Ok((definition, label_of))
}

/// The familiar-wording part of a rule's description: empty when it is off.
fn familiar_text(rule: Rule) -> String {
    if rule.familiar_on() {
        format!(" unless p >= {:.2} with n-gram coverage >= {:.2}", rule.familiar_threshold, rule.familiar_coverage)
    } else {
        String::new()
    }
}

/// What the locale columns of a test split give.
struct LocaleReport {
    /// Test rows with a locale.
    n: usize,
    /// Share of them whose locale [`Bot::understand`] detects, in [0, 1].
    accuracy: f64,
    /// Locale → (in-scope rows, of which the best intent is right), in locale order.
    per_locale: BTreeMap<String, (usize, usize)>,
}

/// Scores the test rows' `locales` (`None`: the row has none) against what the bot detects,
/// and the intent accuracy of `scored` per locale.
fn locale_report(bot: &Bot, test: &[(String, Option<usize>)], locales: &[Option<String>], scored: &[Scored]) -> LocaleReport {
    let (mut n, mut ok) = (0usize, 0usize);
    let mut per_locale: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (((text, _), locale), s) in test.iter().zip(locales).zip(scored) {
        let Some(locale) = locale else { continue };
        n += 1;
        ok += usize::from(bot.understand(text).locale.eq_ignore_ascii_case(locale));
        if let Some(gold) = s.gold {
            let entry = per_locale.entry(locale.clone()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(s.label == gold);
        }
    }
    LocaleReport { n, accuracy: ok as f64 / n.max(1) as f64, per_locale }
}

/// Runs `sottovoce eval`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    if args.catalog.catalog.is_some() {
        return crate::eval_catalog::run(&args.catalog, args.json.as_deref());
    }
    let (Some(train_path), Some(test_path)) = (args.train.clone(), args.test.clone()) else {
        bail!("give --train and --test (or --catalog, --queries and --qrels)");
    };
    let train_rows = read_split(&train_path)?;
    let test_rows = read_split(&test_path)?;
    let val_rows = args.val.as_deref().map(read_split).transpose()?;

    // Labels in order of first appearance in train.
    let mut labels: Vec<String> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for r in &train_rows {
        if r.intent != OOS && !index.contains_key(&r.intent) {
            index.insert(r.intent.clone(), labels.len());
            labels.push(r.intent.clone());
        }
    }
    if labels.is_empty() {
        bail!("{}: no in-scope rows (every intent is `{OOS}`)", train_path.display());
    }
    // Locales: the first seen in train is the default, for rows without one.
    let with_locales = train_rows.iter().any(|r| r.locale.is_some());
    let default_locale = train_rows.iter().find_map(|r| r.locale.clone()).unwrap_or_else(|| "en".to_owned());
    let locale_of = |rows: &[Row]| -> Vec<String> {
        rows.iter().map(|r| r.locale.clone().unwrap_or_else(|| default_locale.clone())).collect()
    };
    let train_locales = locale_of(&train_rows);
    let test_locales: Vec<Option<String>> = test_rows.iter().map(|r| r.locale.clone()).collect();
    let resolve = |rows: Vec<Row>, path: &Path| -> anyhow::Result<Vec<(String, Option<usize>)>> {
        rows.into_iter()
            .enumerate()
            .map(|(i, r)| {
                if r.intent == OOS {
                    Ok((r.text, None))
                } else {
                    match index.get(&r.intent) {
                        Some(&l) => Ok((r.text, Some(l))),
                        None => bail!(
                            "{}: row {}: intent {:?} does not occur in the training split",
                            path.display(),
                            i + 1,
                            r.intent
                        ),
                    }
                }
            })
            .collect()
    };
    let train = resolve(train_rows, &train_path)?;
    let mut test = resolve(test_rows, &test_path)?;
    let val = match (val_rows, &args.val) {
        (Some(rows), Some(path)) => Some(resolve(rows, path)?),
        _ => None,
    };
    if let Some(Noise::Typos) = args.noise {
        let mut rng = Rng(args.noise_seed);
        for (text, _) in &mut test {
            *text = add_typos(text, 0.10, &mut rng);
        }
    }
    let mut table_bytes = std::borrow::Cow::Borrowed(crate::build::SHIPPED_VECTORS);
    if let Some(path) = &args.vectors_file {
        table_bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?.into();
    }
    let table_name = args.vectors_file.as_ref().map_or("minilm-l6-d64 (built in)".into(), |p| p.display().to_string());
    let vectors = if args.vectors || args.vectors_file.is_some() {
        let table = StaticVectors::from_bytes(&table_bytes).with_context(|| table_name.clone())?;
        // A definition can only name a table this build lists: the bot measured is one a site
        // could ship.
        if sottovoce::definition::word_vector_table_name(table.hash()).is_none() {
            bail!("{table_name}: not a word-vector table a bot definition can name (hash {:016x})", table.hash());
        }
        Some(std::sync::Arc::new(table))
    } else {
        None
    };
    // The dense block the bot trains with: the table above, or the accuracy tier's encoder.
    let mut encoder_report: Option<serde_json::Value> = None;
    let (dense, dense_name): (Option<std::sync::Arc<dyn SentenceEncoder>>, Option<&str>) = match (&args.encoder, &vectors) {
        (Some(dir), _) => {
            let train_texts: Vec<String> = train.iter().map(|(t, _)| sottovoce::nlu::normalize(t)).collect();
            let copy = (!args.encoder_float)
                .then(|| crate::encoder::Copy {
                    first: args.encoder_vocab.unwrap_or(sottovoce_encoder::FIRST_TOKENS),
                    budget: args.encoder_budget.unwrap_or(crate::encoder::COPY_BUDGET),
                    texts: train_texts.as_slice(),
                });
            let encoder = crate::encoder::CachedEncoder::open(dir, copy)?.with_scale(args.encoder_scale);
            let name = sottovoce::definition::word_vector_table_name(encoder.source()).with_context(|| {
                format!("{}: not the all-MiniLM-L6-v2 a definition can name (hash {:016x})", dir.display(), encoder.source())
            })?;
            let mut texts = train_texts;
            texts.extend(test.iter().chain(val.iter().flatten()).map(|(t, _)| sottovoce::nlu::normalize(t)));
            let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
            let embedded = encoder.warm(&texts, threads)?;
            if !args.quiet {
                eprintln!("encoder: {embedded} new embeddings of {} texts", texts.len());
            }
            // What a message costs on top of the classifier: the cached embeddings above make
            // the latency measured below the classifier's alone.
            let sample: Vec<&str> = test.iter().step_by((test.len() / 300).max(1)).map(|(t, _)| t.as_str()).collect();
            let (p50, p99) = encoder.time_uncached(&sample);
            encoder_report = Some(serde_json::json!({
                "name": name,
                "hash": format!("{:016x}", encoder.hash()),
                "dim": encoder.dim(),
                "weights_bytes": encoder.weights_bytes(),
                "embed_ms_p50": (p50 * 100.0).round() / 100.0,
                "embed_ms_p99": (p99 * 100.0).round() / 100.0,
                "embed_sample": sample.len(),
                "scale": args.encoder_scale,
                "copy": encoder.copy_sizes().map(|(raw, gz)| serde_json::json!({"bytes": raw, "gzip_bytes": gz})),
                "vocab_kept": encoder.kept_tokens(),
            }));
            (Some(std::sync::Arc::new(encoder)), Some(name))
        }
        (None, Some(t)) => (Some(std::sync::Arc::clone(t) as std::sync::Arc<dyn SentenceEncoder>), Some(sottovoce::definition::WORD_VECTOR_TABLES[0].0)),
        (None, None) => (None, None),
    };
    // In-scope intents are `0..n_labels`; train's `oos` rows, if any, are intent `n_labels`.
    let n_labels = labels.len();
    let oos_label = n_labels;
    let in_scope = train.iter().filter(|(_, l)| l.is_some()).count();
    let n_oos_train = train.len() - in_scope;
    let n_classes = n_labels + usize::from(n_oos_train > 0);
    let examples: Vec<(String, usize, String)> = train
        .iter()
        .zip(&train_locales)
        .map(|((t, l), locale)| (t.clone(), l.unwrap_or(oos_label), locale.clone()))
        .collect();
    if n_oos_train > 0 {
        labels.push(OUT_OF_SCOPE_INTENT.to_string());
    }
    let test_has_oos = test.iter().any(|(_, g)| g.is_none());

    // The out-of-scope rule: on val, or on a tenth of train held out per intent; the rule of
    // each criterion from the same scored rows, the chosen criterion's first.
    let no_rule = Rule::alone(0.0);
    let other_criterion = match args.oos_criterion {
        Criterion::Balanced => Criterion::ValAccuracy,
        Criterion::ValAccuracy => Criterion::Balanced,
    };
    let rules_on = |scored: &[Scored]| {
        (choose_rule(scored, args.oos_criterion), choose_rule(scored, other_criterion))
    };
    let ((rule, other_rule), threshold_source) = if !test_has_oos {
        ((no_rule, no_rule), "none (test has no out-of-scope rows)")
    } else if let Some(val) = &val {
        let (definition, label_of) = eval_definition(&labels, n_labels, &examples, no_rule, dense_name)?;
        let bot = train_eval_bot(definition, dense.as_ref(), "training (for val)", &args)?;
        (rules_on(&score(&bot, &label_of, val)), "val")
    } else {
        let mut seen = vec![0usize; n_classes];
        let mut fit = Vec::new();
        let mut held: Vec<(String, Option<usize>)> = Vec::new();
        for (text, label, locale) in &examples {
            seen[*label] += 1;
            if seen[*label].is_multiple_of(10) {
                held.push((text.clone(), (*label != oos_label).then_some(*label)));
            } else {
                fit.push((text.clone(), *label, locale.clone()));
            }
        }
        let (definition, label_of) = eval_definition(&labels, n_labels, &fit, no_rule, dense_name)?;
        let bot = train_eval_bot(definition, dense.as_ref(), "training (held-out 10%)", &args)?;
        (rules_on(&score(&bot, &label_of, &held)), "a tenth of train held out")
    };

    // The bot that ships: the whole of train, with the chosen rule in its definition.
    let (definition, label_of) = eval_definition(&labels, n_labels, &examples, rule, dense_name)?;
    let started = Instant::now();
    let bot = train_eval_bot(definition, dense.as_ref(), "training", &args)?;
    let train_seconds = started.elapsed().as_secs_f64();

    let scored = score(&bot, &label_of, &test);
    // The bot's own decision (`understand`, as the widget runs it) must be the scored rule's.
    if test_has_oos {
        let differ = test
            .iter()
            .zip(&scored)
            .filter(|((text, _), s)| bot.understand(text).intent.is_none() != s.rejected(rule))
            .count();
        if differ > 0 {
            bail!("the bot's out-of-scope decision differs from the scored rule on {differ} test queries");
        }
    }
    let time_each = |f: &dyn Fn(&str)| -> Vec<f64> {
        let mut us: Vec<f64> = test
            .iter()
            .map(|(text, _)| {
                let t = Instant::now();
                f(std::hint::black_box(text));
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        us.sort_by(f64::total_cmp);
        us
    };
    let latencies = time_each(&|text| {
        std::hint::black_box(bot.classify(text));
    });
    let understand_latencies = time_each(&|text| {
        std::hint::black_box(bot.understand(text));
    });

    let in_scope_scored: Vec<&Scored> = scored.iter().filter(|s| s.gold.is_some()).collect();
    let n_in = in_scope_scored.len();
    let pairs_in: Vec<(usize, usize)> =
        in_scope_scored.iter().map(|s| (s.gold.expect("in scope"), s.label)).collect();
    let accuracy = pairs_in.iter().filter(|(g, p)| g == p).count() as f64 / n_in.max(1) as f64;
    let f1 = macro_f1(&pairs_in, n_labels);

    let file = bot.to_model();
    let model_bytes = file.len();
    // The file must load as the widget loads it; the time is the widget's start-up cost.
    let started = Instant::now();
    Bot::from_model_with_vectors(&file, dense.as_ref()).context("the measured model file does not load as a bot")?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Some(out) = &args.model {
        std::fs::write(out, &file).with_context(|| format!("cannot write {}", out.display()))?;
    }
    if let Some(out) = &args.definition {
        std::fs::write(out, bot.definition().to_json())
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let model_gzip_bytes = gzip_len(&file);
    let classifier = sottovoce::model::decode_with_vectors(&file, dense.as_ref())?.intents;
    let classifier_bytes = postcard::to_allocvec(&classifier)?.len();

    let pct = |x: f64| (x * 10000.0).round() / 100.0;
    let mut result = serde_json::json!({
        "train": train_path.display().to_string(),
        "test": test_path.display().to_string(),
        "val": args.val.as_ref().map(|p| p.display().to_string()),
        "noise": args.noise.map(|_| "typos"),
        "noise_seed": args.noise.map(|_| args.noise_seed),
        "typo_correction": !args.no_typo_correction,
        "n_train": in_scope,
        "n_train_out_of_scope": n_oos_train,
        "n_test": test.len(),
        "n_labels": n_labels,
        "accuracy": pct(accuracy),
        "macro_f1": pct(f1),
        "train_seconds": (train_seconds * 1000.0).round() / 1000.0,
        "latency_us_p50": (percentile(&latencies, 0.5) * 10.0).round() / 10.0,
        "latency_us_p99": (percentile(&latencies, 0.99) * 10.0).round() / 10.0,
        "understand_us_p50": (percentile(&understand_latencies, 0.5) * 10.0).round() / 10.0,
        "understand_us_p99": (percentile(&understand_latencies, 0.99) * 10.0).round() / 10.0,
        "model_bytes": model_bytes,
        "model_gzip_bytes": model_gzip_bytes,
        "model_load_ms": (load_ms * 10.0).round() / 10.0,
        "classifier_bytes": classifier_bytes,
        "classifier_weights": classifier.n_weights(),
        "vectors": vectors.as_ref().map(|t| serde_json::json!({
            "table": table_name,
            "hash": format!("{:016x}", t.hash()),
            "dim": t.dim(),
            "table_bytes": t.byte_len(),
            "table_gzip_bytes": gzip_len(&table_bytes),
        })),
        "encoder": encoder_report,
    });
    let mut table = vec![
        ("accuracy (in-scope, best intent)", format!("{:.2} %", pct(accuracy))),
        ("macro F1 (in-scope)", format!("{:.2} %", pct(f1))),
    ];
    if with_locales {
        let report = locale_report(&bot, &test, &test_locales, &scored);
        result["locale_accuracy"] = serde_json::json!(pct(report.accuracy));
        result["n_test_with_locale"] = serde_json::json!(report.n);
        let mut per = serde_json::Map::new();
        for (locale, (n, ok)) in &report.per_locale {
            per.insert(locale.clone(), serde_json::json!({"n_in_scope": n, "accuracy": pct(*ok as f64 / (*n).max(1) as f64)}));
        }
        result["per_locale"] = serde_json::Value::Object(per);
        table.push(("locale accuracy", format!("{:.2} % ({} test rows with a locale)", pct(report.accuracy), report.n)));
        for (locale, (n, ok)) in &report.per_locale {
            table.push(("  accuracy in", format!("{locale}: {:.2} % ({n} in-scope rows)", pct(*ok as f64 / (*n).max(1) as f64))));
        }
    }
    if test_has_oos {
        let (in_ok, oos_recall) = rates(&scored, rule);
        let overall = overall_accuracy(&scored, rule);
        result["threshold"] = serde_json::json!(rule.threshold);
        result["familiar_threshold"] = serde_json::json!(rule.familiar_threshold);
        result["familiar_coverage"] = serde_json::json!(rule.familiar_coverage);
        result["threshold_chosen_on"] = serde_json::json!(threshold_source);
        result["oos_criterion"] = serde_json::json!(args.oos_criterion.name());
        result["oos_recall"] = serde_json::json!(pct(oos_recall));
        result["in_scope_accuracy"] = serde_json::json!(pct(in_ok));
        result["overall_accuracy"] = serde_json::json!(pct(overall));
        // Both criteria side by side, so the figures compare with peers that chose by val
        // accuracy.
        let mut by_criterion = serde_json::Map::new();
        for (criterion, r) in [(args.oos_criterion, rule), (other_criterion, other_rule)] {
            let (in_ok, oos_recall) = rates(&scored, r);
            let overall = pct(overall_accuracy(&scored, r));
            if criterion == Criterion::ValAccuracy {
                result["overall_accuracy_val_accuracy_rule"] = serde_json::json!(overall);
            }
            by_criterion.insert(criterion.name().to_owned(), serde_json::json!({
                "threshold": r.threshold,
                "familiar_threshold": r.familiar_threshold,
                "familiar_coverage": r.familiar_coverage,
                "oos_recall": pct(oos_recall),
                "in_scope_accuracy": pct(in_ok),
                "overall_accuracy": overall,
            }));
        }
        result["oos_rules"] = serde_json::Value::Object(by_criterion);
        let (other_in, other_recall) = rates(&scored, other_rule);
        table.push((
            "out-of-scope rule",
            format!(
                "out_of_scope wins, or p < {:.4}{} (best {} on {threshold_source}; the bot's rule)",
                rule.threshold,
                familiar_text(rule),
                args.oos_criterion.name()
            ),
        ));
        table.push(("out-of-scope recall", format!("{:.2} %", pct(oos_recall))));
        table.push(("in-scope accuracy at threshold", format!("{:.2} %", pct(in_ok))));
        table.push(("overall accuracy (oos as a class)", format!("{:.2} %", pct(overall))));
        table.push((
            "  with the rule of best other",
            format!(
                "{}: {:.2} % overall (in-scope {:.2} %, out-of-scope recall {:.2} %; p < {:.4}{})",
                other_criterion.name(),
                pct(overall_accuracy(&scored, other_rule)),
                pct(other_in),
                pct(other_recall),
                other_rule.threshold,
                familiar_text(other_rule)
            ),
        ));
    }
    table.extend([
        ("train time", format!(
                "{train_seconds:.3} s ({} examples, {n_labels} intents{})",
                examples.len(),
                if n_oos_train > 0 { " + out_of_scope" } else { "" }
            )),
        (
            "latency per utterance (classify)",
            format!("p50 {:.1} µs, p99 {:.1} µs", percentile(&latencies, 0.5), percentile(&latencies, 0.99)),
        ),
        (
            "  whole understand",
            format!("p50 {:.1} µs, p99 {:.1} µs", percentile(&understand_latencies, 0.5), percentile(&understand_latencies, 0.99)),
        ),
        ("model file", format!("{model_bytes} bytes, {model_gzip_bytes} gzip, loads in {load_ms:.1} ms")),
        ("classifier alone", format!("{classifier_bytes} bytes, {} weights", classifier.n_weights())),
        ("word vectors", match &vectors {
            Some(t) => format!(
                "{} x {}, table {} bytes, {} gzip (shared, not in the model file)",
                t.rows(), t.dim(), t.byte_len(), gzip_len(&table_bytes)
            ),
            None => "none".to_owned(),
        }),
    ]);
    if let Some(e) = &encoder_report {
        table.push((
            "sentence encoder",
            format!(
                "{} ({} dims, weights {} bytes{}), embedding p50 {} ms, p99 {} ms per message natively, not in the latency above",
                e["name"].as_str().unwrap_or_default(),
                e["dim"],
                e["weights_bytes"],
                e["copy"].as_object().map_or(String::new(), |q| format!(
                    "; the bot's int8 copy (.sven) {} bytes, {} gzip",
                    q["bytes"], q["gzip_bytes"]
                )) + &e["vocab_kept"].as_u64().map_or(String::new(), |n| format!("; {n} tokens kept")),
                e["embed_ms_p50"],
                e["embed_ms_p99"]
            ),
        ));
    }
    // Slots, when the splits carry them: scored on the test file as written (no noise), with
    // the intent this classifier predicts (None below the out-of-scope rule).
    let slot_report = slots::evaluate(
        &train_path,
        &test_path,
        &labels[..n_labels],
        &|text: &str| bot.understand(text).intent.and_then(|name| label_of.get(&name).copied()),
        args.quiet,
    )?;
    if let Some(report) = &slot_report {
        report.add_json(&mut result);
    }
    println!("sottovoce eval: {} -> {}{}", train_path.display(), test_path.display(),
        if args.noise.is_some() { " (typo noise)" } else { "" });
    for (k, v) in &table {
        println!("  {k:<36} {v}");
    }
    if let Some(report) = &slot_report {
        report.print();
    }
    if let Some(out) = &args.json {
        std::fs::write(out, serde_json::to_string_pretty(&result)? + "\n")
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_seeded_and_touch_some_words() {
        let text = "where is my order and when does it arrive at my house today";
        let a = add_typos(text, 0.5, &mut Rng(3));
        assert_eq!(a, add_typos(text, 0.5, &mut Rng(3)));
        assert_ne!(a, text);
        assert_eq!(add_typos(text, 0.0, &mut Rng(3)), text);
    }

    #[test]
    fn rule_maximises_overall_accuracy() {
        let s = |gold, label, probability, out_of_scope_wins| Scored { gold, label, probability, coverage: 0.0, out_of_scope_wins };
        // Confidence separates these.
        let scored = vec![s(Some(0), 0, 0.9, false), s(Some(1), 1, 0.6, false), s(None, 0, 0.3, false), s(None, 1, 0.5, false)];
        let rule = choose_rule(&scored, Criterion::ValAccuracy);
        assert!(rule.threshold > 0.5 && rule.threshold <= 0.6, "{rule:?}");
        assert_eq!(overall_accuracy(&scored, rule), 1.0);
        // A confident query the out-of-scope intent wins is rejected at any threshold.
        let scored = vec![s(Some(0), 0, 0.6, false), s(None, 0, 0.8, true)];
        let rule = choose_rule(&scored, Criterion::ValAccuracy);
        assert_eq!(overall_accuracy(&scored, rule), 1.0, "{rule:?}");
    }

    #[test]
    fn balanced_rule_weighs_out_of_scope_recall_whatever_its_share() {
        let s = |gold, probability| Scored { gold, label: 0, probability, coverage: 0.0, out_of_scope_wins: false };
        // Nine in-scope queries, one out-of-scope query more confident than two of them:
        // rejecting it costs two in-scope answers.
        let mut scored: Vec<Scored> = (0..9).map(|i| s(Some(0), 0.5 + i as f32 * 0.05)).collect();
        scored.push(s(None, 0.57));
        let by_accuracy = choose_rule(&scored, Criterion::ValAccuracy);
        let balanced = choose_rule(&scored, Criterion::Balanced);
        assert_eq!(rates(&scored, by_accuracy), (1.0, 0.0), "{by_accuracy:?}");
        assert_eq!(overall_accuracy(&scored, by_accuracy), 0.9);
        let (in_ok, oos_ok) = rates(&scored, balanced);
        assert_eq!(oos_ok, 1.0, "{balanced:?}");
        assert!((in_ok - 7.0 / 9.0).abs() < 1e-9, "{in_ok}");
        assert!(criterion_score(&scored, balanced, Criterion::Balanced) > criterion_score(&scored, by_accuracy, Criterion::Balanced));
    }

    #[test]
    fn rows_with_locales_train_a_bot_of_those_locales_and_are_scored_per_locale() {
        let labels = vec!["order".to_owned(), "hours".to_owned()];
        let rows = [
            ("where is my order", 0, "en"), ("my package has not arrived", 0, "en"), ("track my parcel please", 0, "en"),
            ("when do you open", 1, "en"), ("what are your opening hours", 1, "en"), ("are you open on sunday", 1, "en"),
            ("dónde está mi pedido", 0, "es"), ("mi paquete no ha llegado", 0, "es"), ("rastrear mi envío por favor", 0, "es"),
            ("a qué hora abren", 1, "es"), ("cuál es su horario", 1, "es"), ("abren el domingo", 1, "es"),
        ];
        let train: Vec<(String, usize, String)> = rows.iter().map(|(t, l, loc)| (t.to_string(), *l, loc.to_string())).collect();
        let (definition, label_of) = eval_definition(&labels, labels.len(), &train, Rule::alone(0.0), None).unwrap();
        assert_eq!(definition.locales, ["en", "es"]);
        let bot = Bot::train(definition).unwrap();
        let test = vec![("where is my parcel".to_owned(), Some(0)), ("a qué hora abren hoy".to_owned(), Some(1))];
        let locales = vec![Some("en".to_owned()), Some("es".to_owned())];
        let scored = score(&bot, &label_of, &test);
        let report = locale_report(&bot, &test, &locales, &scored);
        assert_eq!((report.n, report.accuracy), (2, 1.0));
        assert_eq!(report.per_locale.keys().collect::<Vec<_>>(), ["en", "es"]);
        assert!(report.per_locale.values().all(|&(n, _)| n == 1));
    }

    #[test]
    fn rule_takes_familiar_wording_when_it_separates_what_confidence_cannot() {
        let s = |gold, probability, coverage| Scored { gold, label: 0, probability, coverage, out_of_scope_wins: false };
        // In scope and out of scope at the same confidences; only the coverage tells them apart.
        let scored = vec![s(Some(0), 0.9, 0.5), s(Some(0), 0.35, 0.95), s(Some(0), 0.4, 0.9), s(None, 0.35, 0.5), s(None, 0.4, 0.4)];
        let alone = (0..=100).map(|t| Rule::alone(t as f32 / 100.0)).map(|r| overall_accuracy(&scored, r)).fold(0.0, f64::max);
        assert_eq!(alone, 0.6, "no threshold alone gets more than three of five");
        let rule = choose_rule(&scored, Criterion::Balanced);
        assert!(rule.familiar_on(), "{rule:?}");
        assert_eq!(rates(&scored, rule), (1.0, 1.0), "{rule:?}");
        // The definition carries the rule, so the bot decides as it was scored.
        let labels = ["a".to_owned(), "b".to_owned()];
        let train = [("hello".into(), 0, "en".into()), ("goodbye".into(), 1, "en".into())];
        let (definition, _) = eval_definition(&labels, 2, &train, rule, None).unwrap();
        let settings = Bot::train(definition).unwrap().settings().to_owned();
        assert_eq!((settings.threshold, settings.familiar_threshold, settings.familiar_coverage), (rule.threshold, rule.familiar_threshold, rule.familiar_coverage));
    }

    #[test]
    fn macro_f1_of_perfect_and_wrong() {
        assert_eq!(macro_f1(&[(0, 0), (1, 1)], 2), 1.0);
        assert_eq!(macro_f1(&[(0, 1), (1, 0)], 2), 0.0);
    }
}
