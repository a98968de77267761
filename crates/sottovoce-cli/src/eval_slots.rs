//! Slot scoring for `sottovoce eval`, when the JSONL rows carry `entities`.
//!
//! Rows look like the SNIPS 2017 conversion: `{"text", "intent", "entities": [{"entity",
//! "value", "start", "end"}]}`, offsets in chars, end exclusive. One [`SlotTagger`] is trained on
//! every in-scope training row with the widget's default options, then scored on test twice:
//! end to end, with the intent the classifier predicted (what a visitor gets), and with the
//! gold intent (the protocol of the published SNIPS figures, where each engine was trained and
//! tested per intent). Scores are exact span and slot, micro-averaged, per slot and overall,
//! plus the mean over intents of each intent's slot F1 (the published SNIPS headline).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde::Deserialize;
use sottovoce::slots::{
    mean_f1_by_group, score, SlotExample, SlotScores, SlotSpan, SlotTagger, SlotTrainOptions,
};

#[derive(Deserialize)]
struct Row {
    text: String,
    intent: String,
    entities: Option<Vec<Entity>>,
}

#[derive(Deserialize)]
struct Entity {
    entity: String,
    value: String,
    start: usize,
    end: usize,
}

/// Text, intent name and slot spans of every row (`None` when the row has no `entities`).
type Rows = Vec<(String, String, Option<Vec<SlotSpan>>)>;

/// Reads a JSONL split for its slots; errors name the file, the line and the field.
fn read(path: &Path) -> anyhow::Result<Rows> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line =
            line.with_context(|| format!("{}:{}: cannot read line", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(&line).with_context(|| {
            format!(
                "{}:{}: expected {{\"text\", \"intent\", \"entities\": [{{\"entity\", \"value\", \"start\", \"end\"}}]}}",
                path.display(),
                i + 1
            )
        })?;
        let n_chars = row.text.chars().count();
        let spans = match row.entities {
            None => None,
            Some(entities) => {
                let mut spans = Vec::with_capacity(entities.len());
                for (k, e) in entities.into_iter().enumerate() {
                    if e.start >= e.end || e.end > n_chars {
                        anyhow::bail!(
                            "{}:{}: entities[{k}] ({:?}): span {}..{} does not fit the {n_chars}-char text",
                            path.display(),
                            i + 1,
                            e.entity,
                            e.start,
                            e.end
                        );
                    }
                    spans.push(SlotSpan {
                        slot: e.entity,
                        value: e.value,
                        start: e.start,
                        end: e.end,
                    });
                }
                Some(spans)
            }
        };
        rows.push((row.text, row.intent, spans));
    }
    Ok(rows)
}

/// Slot results of one evaluation, ready to print and to add to the JSON report.
pub(crate) struct SlotReport {
    /// End to end: the tagger was given the predicted intent.
    predicted: SlotScores,
    predicted_mean_per_intent: f64,
    /// The tagger was given the gold intent.
    gold: SlotScores,
    gold_mean_per_intent: f64,
    gold_per_intent: Vec<(String, f64, usize)>,
    train_seconds: f64,
    latency_us_p50: f64,
    latency_us_p99: f64,
    tagger_bytes: usize,
    tagger_gzip_bytes: usize,
    n_train: usize,
    n_test: usize,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Trains a slot tagger on `train` and scores it on `test`, when the splits carry slots.
///
/// `labels` are the intent names in the classifier's label order (rows with other intents,
/// such as `oos`, are not trained on); `predict_intent` gives the classifier's intent for a
/// test text (`None`: out of scope, every slot allowed). Returns `Ok(None)` when no row of
/// either split has an `entities` field.
///
/// # Errors
/// A file that cannot be read, a bad line or span (with file, line and field), a training
/// split with `entities` but a test split without (or the reverse), a bad training span.
pub(crate) fn evaluate(
    train: &Path,
    test: &Path,
    labels: &[String],
    predict_intent: &dyn Fn(&str) -> Option<usize>,
    quiet: bool,
) -> anyhow::Result<Option<SlotReport>> {
    let train_rows = read(train)?;
    let test_rows = read(test)?;
    let has = |rows: &Rows| rows.iter().any(|r| r.2.is_some());
    match (has(&train_rows), has(&test_rows)) {
        (false, false) => return Ok(None),
        (true, false) => anyhow::bail!(
            "{}: rows carry no `entities`, but the training split's do",
            test.display()
        ),
        (false, true) => anyhow::bail!(
            "{}: rows carry no `entities`, but the test split's do",
            train.display()
        ),
        (true, true) => {}
    }
    let index: BTreeMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let examples: Vec<SlotExample> = train_rows
        .iter()
        .filter_map(|(text, intent, spans)| {
            let intent = *index.get(intent.as_str())?;
            Some(SlotExample {
                text,
                spans: spans.as_deref().unwrap_or_default(),
                intent,
            })
        })
        .collect();
    if examples.is_empty() {
        anyhow::bail!(
            "{}: no training row has one of the classifier's intents",
            train.display()
        );
    }

    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(1000)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>24} [{bar:40}] {percent:>3}% {elapsed}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message("training slots");
    let started = Instant::now();
    let tagger =
        SlotTagger::train_with_progress(&examples, &SlotTrainOptions::default(), &mut |f| {
            bar.set_position((f * 1000.0) as u64)
        })
        .with_context(|| format!("{}: cannot train the slot tagger", train.display()))?;
    let train_seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let gold: Vec<Vec<SlotSpan>> = test_rows
        .iter()
        .map(|r| r.2.clone().unwrap_or_default())
        .collect();
    // Test rows whose intent the classifier does not know (`oos`) form one more group.
    let groups: Vec<usize> = test_rows
        .iter()
        .map(|r| index.get(r.1.as_str()).copied().unwrap_or(labels.len()))
        .collect();
    let mut latencies = Vec::with_capacity(test_rows.len());
    let predicted: Vec<Vec<SlotSpan>> = test_rows
        .iter()
        .map(|(text, _, _)| {
            let intent = predict_intent(text);
            let t = Instant::now();
            let spans = tagger.tag(std::hint::black_box(text), intent);
            latencies.push(t.elapsed().as_secs_f64() * 1e6);
            spans
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let with_gold: Vec<Vec<SlotSpan>> = test_rows
        .iter()
        .zip(&groups)
        .map(|((text, _, _), &g)| tagger.tag(text, (g < labels.len()).then_some(g)))
        .collect();

    let (predicted_mean_per_intent, _) = mean_f1_by_group(&gold, &predicted, &groups);
    let (gold_mean_per_intent, per_group) = mean_f1_by_group(&gold, &with_gold, &groups);
    let gold_per_intent = per_group
        .iter()
        .map(|(g, s)| {
            (
                labels
                    .get(*g)
                    .cloned()
                    .unwrap_or_else(|| "(unknown intent)".into()),
                s.overall.f1,
                s.overall.support(),
            )
        })
        .collect();
    let bytes = postcard::to_allocvec(&tagger)?;
    Ok(Some(SlotReport {
        predicted: score(&gold, &predicted),
        predicted_mean_per_intent,
        gold: score(&gold, &with_gold),
        gold_mean_per_intent,
        gold_per_intent,
        train_seconds,
        latency_us_p50: percentile(&latencies, 0.5),
        latency_us_p99: percentile(&latencies, 0.99),
        tagger_bytes: bytes.len(),
        tagger_gzip_bytes: crate::gzip::gzip_len(&bytes),
        n_train: examples.len(),
        n_test: test_rows.len(),
    }))
}

fn pct(x: f64) -> f64 {
    (x * 10000.0).round() / 100.0
}

impl SlotReport {
    /// Prints the slot table: headline figures, then P/R/F1 per slot (end to end) and the
    /// per-intent F1 with the gold intent.
    pub(crate) fn print(&self) {
        let o = &self.predicted.overall;
        let g = &self.gold.overall;
        println!(
            "  slots ({} training rows, {} test rows; exact span and slot, micro)",
            self.n_train, self.n_test
        );
        let rows = [
            (
                "slot P / R / F1, predicted intent",
                format!(
                    "{:.2} / {:.2} / {:.2} %",
                    pct(o.precision),
                    pct(o.recall),
                    pct(o.f1)
                ),
            ),
            (
                "slot F1 mean over intents, predicted",
                format!("{:.2} %", pct(self.predicted_mean_per_intent)),
            ),
            (
                "slot P / R / F1, gold intent",
                format!(
                    "{:.2} / {:.2} / {:.2} %",
                    pct(g.precision),
                    pct(g.recall),
                    pct(g.f1)
                ),
            ),
            (
                "slot F1 mean over intents, gold",
                format!(
                    "{:.2} % (published SNIPS protocol)",
                    pct(self.gold_mean_per_intent)
                ),
            ),
            ("slot train time", format!("{:.3} s", self.train_seconds)),
            (
                "slot tagging per utterance",
                format!(
                    "p50 {:.1} µs, p99 {:.1} µs",
                    self.latency_us_p50, self.latency_us_p99
                ),
            ),
            (
                "slot tagger",
                format!(
                    "{} bytes, {} gzip",
                    self.tagger_bytes, self.tagger_gzip_bytes
                ),
            ),
        ];
        for (k, v) in rows {
            println!("  {k:<36} {v}");
        }
        println!(
            "  {:<28} {:>7} {:>7} {:>7} {:>7}",
            "slot (predicted intent)", "P %", "R %", "F1 %", "spans"
        );
        for (slot, s) in &self.predicted.per_slot {
            println!(
                "    {slot:<26} {:>7.2} {:>7.2} {:>7.2} {:>7}",
                pct(s.precision),
                pct(s.recall),
                pct(s.f1),
                s.support()
            );
        }
        println!(
            "  {:<28} {:>7} {:>7}",
            "intent (gold intent)", "F1 %", "spans"
        );
        for (intent, f1, n) in &self.gold_per_intent {
            println!("    {intent:<26} {:>7.2} {n:>7}", pct(*f1));
        }
    }

    /// Adds the slot fields to the JSON report: `slot_precision`, `slot_recall`, `slot_f1`,
    /// `slot_f1_per_slot` ({slot: {precision, recall, f1, support}}), `slot_f1_mean_per_intent`
    /// (all end to end, in %), the same with `_gold_intent`, and `slot_train_seconds`,
    /// `slot_latency_us_p50`, `slot_latency_us_p99`, `slot_model_bytes`, `slot_model_gzip_bytes`.
    pub(crate) fn add_json(&self, result: &mut serde_json::Value) {
        let per_slot = |s: &SlotScores| -> serde_json::Value {
            s.per_slot
                .iter()
                .map(|(k, v)| {
                    (k.clone(), serde_json::json!({"precision": pct(v.precision), "recall": pct(v.recall), "f1": pct(v.f1), "support": v.support()}))
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let fields = serde_json::json!({
            "slot_precision": pct(self.predicted.overall.precision),
            "slot_recall": pct(self.predicted.overall.recall),
            "slot_f1": pct(self.predicted.overall.f1),
            "slot_f1_per_slot": per_slot(&self.predicted),
            "slot_f1_mean_per_intent": pct(self.predicted_mean_per_intent),
            "slot_precision_gold_intent": pct(self.gold.overall.precision),
            "slot_recall_gold_intent": pct(self.gold.overall.recall),
            "slot_f1_gold_intent": pct(self.gold.overall.f1),
            "slot_f1_per_slot_gold_intent": per_slot(&self.gold),
            "slot_f1_mean_per_intent_gold_intent": pct(self.gold_mean_per_intent),
            "slot_f1_per_intent_gold_intent": self.gold_per_intent.iter()
                .map(|(i, f1, _)| (i.clone(), serde_json::json!(pct(*f1))))
                .collect::<serde_json::Map<_, _>>(),
            "slot_train_seconds": (self.train_seconds * 1000.0).round() / 1000.0,
            "slot_latency_us_p50": (self.latency_us_p50 * 10.0).round() / 10.0,
            "slot_latency_us_p99": (self.latency_us_p99 * 10.0).round() / 10.0,
            "slot_model_bytes": self.tagger_bytes,
            "slot_model_gzip_bytes": self.tagger_gzip_bytes,
        });
        if let (Some(out), serde_json::Value::Object(add)) = (result.as_object_mut(), fields) {
            out.extend(add);
        }
    }
}
