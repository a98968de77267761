//! Slot-filling scores: precision, recall and F1 of exact spans, per slot and overall.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SlotSpan;

/// Counts and ratios for one slot (or all of them): ratios in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Prf {
    /// Predicted spans that match a gold span exactly (same slot, start and end).
    pub true_positives: usize,
    /// Predicted spans that match none.
    pub false_positives: usize,
    /// Gold spans that no prediction matches.
    pub false_negatives: usize,
    /// `tp / (tp + fp)`, 0 when nothing was predicted.
    pub precision: f64,
    /// `tp / (tp + fn)`, 0 when there was nothing to find.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
}

impl Prf {
    fn add(&mut self, tp: usize, fp: usize, fn_: usize) {
        self.true_positives += tp;
        self.false_positives += fp;
        self.false_negatives += fn_;
    }

    fn finish(&mut self) {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.precision = ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        );
        self.recall = ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        );
        let sum = self.precision + self.recall;
        self.f1 = if sum == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / sum
        };
    }

    /// Number of gold spans (`tp + fn`).
    pub fn support(&self) -> usize {
        self.true_positives + self.false_negatives
    }
}

/// Scores of a whole test set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SlotScores {
    /// Micro-averaged over all spans of all slots.
    pub overall: Prf,
    /// Per slot name, every slot seen in gold or predicted spans.
    pub per_slot: BTreeMap<String, Prf>,
}

/// Offsets of a span without the whitespace at its ends (SNIPS has a few `"vimeo "` spans).
fn key(s: &SlotSpan) -> (&str, usize, usize) {
    let lead = s.value.chars().take_while(|c| c.is_whitespace()).count();
    let trail = s
        .value
        .chars()
        .rev()
        .take_while(|c| c.is_whitespace())
        .count();
    let (start, end) = (s.start + lead, s.end.saturating_sub(trail));
    (s.slot.as_str(), start, end.max(start))
}

/// Compares predicted with gold spans, text by text: `gold[k]` and `predicted[k]` are the
/// spans of the k-th test text (a missing entry counts as no spans). A prediction is right
/// when slot, start and end all match a gold span, after dropping whitespace at the span's
/// ends (read from `value`); each gold span matches at most one prediction.
///
/// ```
/// use sottovoce::slots::{score, SlotSpan};
/// let span = |slot: &str, start, end| SlotSpan { slot: slot.into(), value: String::new(), start, end };
/// let s = score(&[vec![span("city", 0, 5), span("date", 6, 9)]], &[vec![span("city", 0, 5)]]);
/// assert_eq!((s.overall.precision, s.overall.recall), (1.0, 0.5));
/// assert_eq!(s.per_slot["date"].false_negatives, 1);
/// ```
pub fn score(gold: &[Vec<SlotSpan>], predicted: &[Vec<SlotSpan>]) -> SlotScores {
    let mut scores = SlotScores::default();
    let empty = Vec::new();
    for k in 0..gold.len().max(predicted.len()) {
        let g = gold.get(k).unwrap_or(&empty);
        let p = predicted.get(k).unwrap_or(&empty);
        let mut unmatched: Vec<(&str, usize, usize)> = g.iter().map(key).collect();
        for s in p {
            let k = key(s);
            let entry = scores.per_slot.entry(s.slot.clone()).or_default();
            if let Some(pos) = unmatched.iter().position(|u| *u == k) {
                unmatched.swap_remove(pos);
                entry.add(1, 0, 0);
                scores.overall.add(1, 0, 0);
            } else {
                entry.add(0, 1, 0);
                scores.overall.add(0, 1, 0);
            }
        }
        for (slot, _, _) in unmatched {
            scores
                .per_slot
                .entry(slot.to_string())
                .or_default()
                .add(0, 0, 1);
            scores.overall.add(0, 0, 1);
        }
    }
    scores.overall.finish();
    scores.per_slot.values_mut().for_each(Prf::finish);
    scores
}

/// Mean over groups (intents, say) of each group's micro F1: the SNIPS 2017 benchmark's
/// headline slot figure, where each intent is scored on its own queries. `groups[k]` is the
/// group of the k-th text; groups with no gold and no predicted spans are left out.
/// Returns the mean in [0, 1] (0 when there is no group) and the scores of each group.
pub fn mean_f1_by_group(
    gold: &[Vec<SlotSpan>],
    predicted: &[Vec<SlotSpan>],
    groups: &[usize],
) -> (f64, BTreeMap<usize, SlotScores>) {
    type GoldAndPredicted = (Vec<Vec<SlotSpan>>, Vec<Vec<SlotSpan>>);
    let mut split: BTreeMap<usize, GoldAndPredicted> = BTreeMap::new();
    for (k, &group) in groups.iter().enumerate() {
        let entry = split.entry(group).or_default();
        entry.0.push(gold.get(k).cloned().unwrap_or_default());
        entry.1.push(predicted.get(k).cloned().unwrap_or_default());
    }
    let per_group: BTreeMap<usize, SlotScores> = split
        .into_iter()
        .map(|(group, (g, p))| (group, score(&g, &p)))
        .filter(|(_, s)| {
            s.overall.true_positives + s.overall.false_positives + s.overall.false_negatives > 0
        })
        .collect();
    let mean = if per_group.is_empty() {
        0.0
    } else {
        per_group.values().map(|s| s.overall.f1).sum::<f64>() / per_group.len() as f64
    };
    (mean, per_group)
}
