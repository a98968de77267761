//! The slot tagger: an averaged structured perceptron over BIO tags with Viterbi decoding.

use serde::{Deserialize, Serialize};

use super::features::{extract, Gazetteer};
use crate::text::{tokenize, SplitMix64, Token, Utterance};
use super::{SlotError, SlotSpan};

/// Options for [`SlotTagger::train`]; the defaults are what the bot and `sottovoce eval` use.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotTrainOptions {
    /// Passes over the training data.
    pub epochs: u32,
    /// Seed of the example order in each pass: same data and seed, same model.
    pub seed: u64,
    /// log2 of the number of weight cells; 0 picks one from the amount of training data
    /// (between 2^14 and 2^22 cells).
    pub hash_bits: u8,
    /// Folds for the gazetteer features: while training, an example only sees slot values
    /// from the other folds. 1 disables the scheme (every value seen everywhere).
    pub gazetteer_folds: u32,
    /// At most this many non-zero weights are kept, the largest in magnitude: on big data most
    /// cells hold the small averaged weights of rare features, which change few decisions and
    /// make up most of the file (SNIPS: 197k non-zero cells, 0.68 MB; kept the largest 65,536
    /// plus the ties at the cut, 0.30 MB, same F1 on a held-out tenth of train).
    pub max_weights: usize,
    /// Share of training steps that hide the example's intent (and allow every slot), so that
    /// [`SlotTagger::tag`] with an unknown intent still works; 0 never hides it.
    pub no_intent_rate: f32,
}

impl Default for SlotTrainOptions {
    fn default() -> Self {
        SlotTrainOptions {
            epochs: 6,
            seed: 0x5107_7A66,
            hash_bits: 0,
            gazetteer_folds: 4,
            max_weights: 1 << 16,
            no_intent_rate: 0.1,
        }
    }
}

/// One training example: plain text, its slot spans (char offsets, see [`SlotSpan`]) and the
/// index of its intent (any numbering the caller keeps, such as definition order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotExample<'a> {
    /// The plain text (markup already removed, see [`super::parse_markup`]).
    pub text: &'a str,
    /// Its slot values; `value` is not read, the offsets are. Whitespace at either end of a
    /// span is dropped.
    pub spans: &'a [SlotSpan],
    /// Intent index.
    pub intent: usize,
}

/// A trained slot tagger: finds slot values in a text given its intent.
///
/// Serializable (serde; postcard-friendly) so it can live in the compiled model file.
///
/// ```
/// use sottovoce::slots::{parse_markup, SlotExample, SlotTagger, SlotTrainOptions};
/// let lines = ["weather in [Paris](city)", "weather in [Rome](city) [tomorrow](date)",
///              "will it rain in [Oslo](city)", "forecast for [Paris](city) [today](date)"];
/// let parsed: Vec<_> = lines.iter().map(|l| parse_markup(l).unwrap()).collect();
/// let examples: Vec<_> = parsed.iter()
///     .map(|a| SlotExample { text: &a.text, spans: &a.spans, intent: 0 }).collect();
/// let tagger = SlotTagger::train(&examples, &SlotTrainOptions::default()).unwrap();
/// let spans = tagger.tag("weather in Rome today", Some(0));
/// assert_eq!(spans.iter().map(|s| (s.slot.as_str(), s.value.as_str())).collect::<Vec<_>>(),
///            [("city", "Rome"), ("date", "today")]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotTagger {
    /// Slot names, sorted; slot `s` has tags `B = 1 + 2s` and `I = 2 + 2s`, and tag 0 is `O`.
    slots: Vec<String>,
    /// Per intent index, the tags it may produce (those seen with it in training), sorted.
    intent_tags: Vec<Vec<u16>>,
    hash_bits: u8,
    weights: Weights,
    /// `[prev * n_tags + tag]`, then a start row, then an end row (`n_tags + 2` rows).
    transitions: Vec<f32>,
    gazetteer: Gazetteer,
}

/// The weight table: dense in memory, stored as its non-zero cells quantised to 8 bits (linear,
/// 127 steps of the largest magnitude; 16 bits before model format 13: SNIPS 2017 slot F1
/// micro .9672, mean over intents .9657 with either, without the intent .9369 → .9360,
/// `tests/slots_snips.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "SparseWeights", try_from = "SparseWeights")]
struct Weights(Vec<f32>);

#[derive(Serialize, Deserialize)]
struct SparseWeights {
    len: u32,
    scale: f32,
    /// Gap from the previous non-zero cell (first: its index).
    gaps: Vec<u32>,
    values: Vec<i8>,
}

impl Weights {
    fn scale(&self) -> f32 {
        let max = self.0.iter().fold(0f32, |m, w| m.max(w.abs()));
        if max > 0.0 {
            max / f32::from(i8::MAX)
        } else {
            1.0
        }
    }

    /// Zeroes all but the `max` weights largest in magnitude (ties at the cut are kept).
    fn keep_largest(&mut self, max: usize) {
        let mut magnitudes: Vec<f32> = self
            .0
            .iter()
            .filter(|w| **w != 0.0)
            .map(|w| w.abs())
            .collect();
        if magnitudes.len() <= max {
            return;
        }
        let cut = magnitudes.len() - max;
        let (_, &mut threshold, _) = magnitudes.select_nth_unstable_by(cut, f32::total_cmp);
        self.0
            .iter_mut()
            .filter(|w| w.abs() < threshold)
            .for_each(|w| *w = 0.0);
    }

    /// Rounds every weight to what the stored form keeps, so a loaded model tags exactly
    /// like the one that was trained.
    fn quantise(&mut self) {
        let scale = self.scale();
        for w in &mut self.0 {
            *w = f32::from((*w / scale).round() as i8) * scale;
        }
    }
}

impl From<Weights> for SparseWeights {
    fn from(w: Weights) -> SparseWeights {
        let scale = w.scale();
        let (mut gaps, mut values, mut last) = (Vec::new(), Vec::new(), 0usize);
        for (i, x) in w.0.iter().enumerate() {
            let q = (x / scale).round() as i8;
            if q != 0 {
                gaps.push((i - last) as u32);
                values.push(q);
                last = i;
            }
        }
        SparseWeights {
            len: w.0.len() as u32,
            scale,
            gaps,
            values,
        }
    }
}

impl TryFrom<SparseWeights> for Weights {
    type Error = String;
    fn try_from(s: SparseWeights) -> Result<Weights, String> {
        if !s.len.is_power_of_two() || s.gaps.len() != s.values.len() {
            return Err("slot tagger weights are corrupt".into());
        }
        let mut w = vec![0f32; s.len as usize];
        let mut i = 0usize;
        for (g, q) in s.gaps.iter().zip(&s.values) {
            i += *g as usize;
            *w.get_mut(i)
                .ok_or("slot tagger weight index out of range")? = f32::from(*q) * s.scale;
        }
        Ok(Weights(w))
    }
}

/// Cell of feature hash `f` with tag `tag` in a table of `2^(64 - shift)` cells. The tags of
/// one feature sit side by side, so scoring a token costs one cache miss per feature rather
/// than one per (feature, tag); two features still collide only when their rows overlap at the
/// same cell, as likely as with independent hashing.
#[inline]
fn cell(f: u64, tag: u16, shift: u32) -> usize {
    let mask = (1usize << (64 - shift)) - 1;
    ((f >> shift) as usize).wrapping_add(usize::from(tag)) & mask
}

fn is_inside(tag: u16) -> bool {
    tag > 0 && tag % 2 == 0
}

/// May `tag` follow `prev` (`None`: the sentence start)? `I-x` only continues `B-x` or `I-x`.
fn may_follow(prev: Option<u16>, tag: u16) -> bool {
    !is_inside(tag) || matches!(prev, Some(p) if p == tag || p + 1 == tag)
}

/// Scores of every token with every allowed tag: `out[i * allowed.len() + j]`.
fn emissions(
    w: &[f32],
    shift: u32,
    feats: &[u64],
    starts: &[u32],
    ends: &[u32],
    allowed: &[u16],
    out: &mut Vec<f32>,
) {
    let n = ends.len();
    let m = allowed.len();
    out.clear();
    out.resize(n * m, 0.0);
    let mask = w.len() - 1;
    for i in 0..n {
        let row = &mut out[i * m..(i + 1) * m];
        // Feature by feature, so that the cells of one feature (side by side) are read together.
        for &f in &feats[starts[i] as usize..ends[i] as usize] {
            let base = cell(f, 0, shift);
            for (o, &t) in row.iter_mut().zip(allowed) {
                *o += w[(base + usize::from(t)) & mask];
            }
        }
    }
}

/// The best tag sequence under emission scores `em` and `transitions` (Viterbi 1967), obeying
/// the BIO constraint. Writes one tag per token into `path`.
fn viterbi(em: &[f32], allowed: &[u16], transitions: &[f32], n_tags: usize, path: &mut Vec<u16>) {
    let m = allowed.len();
    let n = em.len() / m;
    path.clear();
    if n == 0 {
        return;
    }
    let start = n_tags * n_tags;
    let end = start + n_tags;
    // The transitions among the allowed tags, -inf where BIO forbids one: `sub[k * m + j]`.
    let mut sub = vec![f32::NEG_INFINITY; m * m];
    for (k, &p) in allowed.iter().enumerate() {
        for (j, &t) in allowed.iter().enumerate() {
            if may_follow(Some(p), t) {
                sub[k * m + j] = transitions[p as usize * n_tags + t as usize];
            }
        }
    }
    let mut delta = vec![f32::NEG_INFINITY; n * m];
    let mut back = vec![0u16; n * m];
    for (j, &t) in allowed.iter().enumerate() {
        if may_follow(None, t) {
            delta[j] = transitions[start + t as usize] + em[j];
        }
    }
    for i in 1..n {
        let (done, rest) = delta.split_at_mut(i * m);
        let prev = &done[(i - 1) * m..];
        for j in 0..m {
            let mut best = (f32::NEG_INFINITY, 0u16);
            for (k, &d) in prev.iter().enumerate() {
                let s = d + sub[k * m + j];
                if s > best.0 {
                    best = (s, k as u16);
                }
            }
            rest[j] = best.0 + em[i * m + j];
            back[i * m + j] = best.1;
        }
    }
    let mut best = (f32::NEG_INFINITY, 0usize);
    for (j, &t) in allowed.iter().enumerate() {
        let s = delta[(n - 1) * m + j] + transitions[end + t as usize];
        if s > best.0 {
            best = (s, j);
        }
    }
    let mut j = best.1;
    let mut rev = Vec::with_capacity(n);
    for i in (0..n).rev() {
        rev.push(allowed[j]);
        j = back[i * m + j] as usize;
    }
    path.extend(rev.into_iter().rev());
}

/// Gives each token a BIO tag from the spans; a token belongs to a span when it starts inside
/// it. Spans must be sorted and disjoint.
fn bio(tokens: &[Token], spans: &[(usize, usize, u16)]) -> Vec<u16> {
    let mut tags = vec![0u16; tokens.len()];
    for &(start, end, slot) in spans {
        let mut first = true;
        for (i, t) in tokens.iter().enumerate() {
            if t.start >= start && t.start < end {
                tags[i] = if first { 1 + 2 * slot } else { 2 + 2 * slot };
                first = false;
            }
        }
    }
    tags
}

struct Prepared {
    feats: Vec<u64>,
    offsets: Vec<u32>,
    mids: Vec<u32>,
    gold: Vec<u16>,
    intent: usize,
}

impl SlotTagger {
    /// Trains a tagger on `examples`.
    ///
    /// Cost: about `epochs × tokens × features × allowed tags` table look-ups; the 13,784
    /// SNIPS training sentences take a few seconds natively in release.
    ///
    /// # Errors
    /// [`SlotError::BadSpan`] when a span is empty, runs past the end of its text or overlaps
    /// another; [`SlotError::TooManySlots`] past 32,767 slot names.
    pub fn train(
        examples: &[SlotExample<'_>],
        options: &SlotTrainOptions,
    ) -> Result<SlotTagger, SlotError> {
        SlotTagger::train_with_progress(examples, options, &mut |_| {})
    }

    /// As [`SlotTagger::train`], calling `progress` with the fraction done (0 to 1) now and
    /// then (after feature extraction and every 1,024 examples of every pass).
    ///
    /// # Errors
    /// As [`SlotTagger::train`].
    pub fn train_with_progress(
        examples: &[SlotExample<'_>],
        options: &SlotTrainOptions,
        progress: &mut dyn FnMut(f32),
    ) -> Result<SlotTagger, SlotError> {
        // Inserted one by one: `collect` into a BTreeSet would compile one more std sort.
        let mut slot_set = std::collections::BTreeSet::new();
        for s in examples.iter().flat_map(|e| e.spans.iter()) {
            slot_set.insert(s.slot.clone());
        }
        let slots: Vec<String> = slot_set.into_iter().collect();
        if slots.len() > (i16::MAX as usize - 1) / 2 {
            return Err(SlotError::TooManySlots(slots.len()));
        }
        let n_tags = 1 + 2 * slots.len();
        let n_intents = examples.iter().map(|e| e.intent + 1).max().unwrap_or(0);
        // Per intent, which tags its examples use (`O` always): a mask, not a set, for wasm bytes.
        let mut allowed: Vec<Vec<bool>> = vec![vec![false; n_tags]; n_intents];
        for a in &mut allowed {
            a[0] = true;
        }
        let folds = options.gazetteer_folds.clamp(1, 32);

        // Tokens and gold spans (trimmed, as token-level slot ids) of every example.
        let mut tokenized = Vec::with_capacity(examples.len());
        for (x, ex) in examples.iter().enumerate() {
            let chars: Vec<char> = ex.text.chars().collect();
            let mut spans = Vec::with_capacity(ex.spans.len());
            let mut sorted: Vec<&SlotSpan> = ex.spans.iter().collect();
            crate::sort::sort_by_key(&mut sorted, |s| (s.start, s.end));
            let mut last_end = 0;
            for s in sorted {
                let bad = |reason| SlotError::BadSpan {
                    example: x,
                    text: ex.text.to_string(),
                    slot: s.slot.clone(),
                    start: s.start,
                    end: s.end,
                    reason,
                };
                if s.end > chars.len() {
                    return Err(bad("past the end"));
                }
                let (mut a, mut b) = (s.start, s.end);
                while a < b && chars[a].is_whitespace() {
                    a += 1;
                }
                while b > a && chars[b - 1].is_whitespace() {
                    b -= 1;
                }
                if a >= b {
                    return Err(bad("empty"));
                }
                if a < last_end {
                    return Err(bad("overlaps another span"));
                }
                last_end = b;
                let slot = slots.binary_search(&s.slot).unwrap_or(0) as u16;
                spans.push((a, b, slot));
            }
            let tokens = tokenize(ex.text);
            let gold = bio(&tokens, &spans);
            for &g in &gold {
                allowed[ex.intent][g as usize] = true;
            }
            tokenized.push((tokens, gold));
        }
        let intent_tags: Vec<Vec<u16>> = allowed
            .iter()
            .map(|mask| (0..n_tags as u16).filter(|&t| mask[t as usize]).collect())
            .collect();
        if slots.is_empty() {
            progress(1.0);
            return Ok(SlotTagger {
                slots,
                intent_tags,
                hash_bits: 8,
                weights: Weights(vec![0.0; 1 << 8]),
                transitions: vec![0.0; 3],
                gazetteer: Gazetteer::default(),
            });
        }

        // The gazetteer: token sequences of every value, remembered with their fold.
        let fold_of = |x: usize| (x as u32) % folds;
        let mut values = Vec::new();
        for (x, (tokens, gold)) in tokenized.iter().enumerate() {
            let mut i = 0;
            while i < tokens.len() {
                if gold[i] % 2 == 1 {
                    let mut j = i + 1;
                    while j < tokens.len() && gold[j] == gold[i] + 1 {
                        j += 1;
                    }
                    values.push((&tokens[i..j], (gold[i] - 1) / 2, fold_of(x)));
                    i = j;
                } else {
                    i += 1;
                }
            }
        }
        let mut gazetteer = Gazetteer::build(values.into_iter());

        let mut matches = Vec::new();
        let prepared: Vec<Prepared> = tokenized
            .into_iter()
            .enumerate()
            .map(|(x, (tokens, gold))| {
                let intent = examples[x].intent;
                if intent_tags[intent].len() == 1 {
                    // An intent without slots: every tag is O, nothing to learn.
                    let (feats, offsets, gold) = (Vec::new(), vec![0], Vec::new());
                    return Prepared {
                        feats,
                        offsets,
                        mids: Vec::new(),
                        gold,
                        intent,
                    };
                }
                let exclude = (folds > 1).then(|| fold_of(x));
                gazetteer.matches(&tokens, exclude, &mut matches);
                let (mut feats, mut offsets, mut mids) = (Vec::new(), Vec::new(), Vec::new());
                extract(
                    &tokens,
                    Some(examples[x].intent as u32),
                    &matches,
                    &mut feats,
                    &mut offsets,
                    &mut mids,
                );
                Prepared {
                    feats,
                    offsets,
                    mids,
                    gold,
                    intent: examples[x].intent,
                }
            })
            .collect();
        gazetteer.finish_training();
        // Feature extraction costs about one pass.
        let steps = (options.epochs as usize + 1) * prepared.len().max(1);
        progress(prepared.len() as f32 / steps as f32);
        let mut done = prepared.len();

        let total_tokens: usize = prepared.iter().map(|p| p.gold.len()).sum();
        let hash_bits = match options.hash_bits {
            0 => (usize::BITS - total_tokens.max(1).leading_zeros() + 5).clamp(14, 22) as u8,
            b => b.clamp(8, 30),
        };
        let shift = 64 - u32::from(hash_bits);
        let n_cells = 1usize << hash_bits;
        let n_trans = (n_tags + 2) * n_tags;

        // Averaged perceptron with the "lazy" average of Daumé (2006, thesis, Alg. 7):
        // w holds the current weights, u the sum of c·Δ, and the average is w - u / c.
        let mut w = vec![0f32; n_cells];
        let mut u = vec![0f64; n_cells];
        let mut tw = vec![0f32; n_trans];
        let mut tu = vec![0f64; n_trans];
        let mut c = 1f64;
        let mut rng = SplitMix64(options.seed);
        let all_tags: Vec<u16> = (0..n_tags as u16).collect();
        let mut order: Vec<usize> = (0..prepared.len()).collect();
        let (mut em, mut path) = (Vec::new(), Vec::new());
        let trans_cell = |prev: Option<u16>, tag: Option<u16>| match (prev, tag) {
            (Some(p), Some(t)) => p as usize * n_tags + t as usize,
            (None, Some(t)) => n_tags * n_tags + t as usize,
            (Some(p), None) => (n_tags + 1) * n_tags + p as usize,
            (None, None) => unreachable!("sentences with no tokens are skipped"),
        };
        for _ in 0..options.epochs {
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            for &x in &order {
                let p = &prepared[x];
                if p.gold.is_empty() {
                    continue;
                }
                // Now and then the example is seen without its intent, so that tagging with an
                // unknown intent works too.
                let blind = rng.unit_f32() < options.no_intent_rate;
                let (tags, ends) = if blind {
                    (&all_tags[..], &p.mids[..])
                } else {
                    (&intent_tags[p.intent][..], &p.offsets[1..])
                };
                emissions(&w, shift, &p.feats, &p.offsets, ends, tags, &mut em);
                viterbi(&em, tags, &tw, n_tags, &mut path);
                if path != p.gold {
                    for (i, (&g, &q)) in p.gold.iter().zip(&path).enumerate() {
                        if g == q {
                            continue;
                        }
                        for &f in &p.feats[p.offsets[i] as usize..ends[i] as usize] {
                            let (a, b) = (cell(f, g, shift), cell(f, q, shift));
                            w[a] += 1.0;
                            u[a] += c;
                            w[b] -= 1.0;
                            u[b] -= c;
                        }
                    }
                    let n = p.gold.len();
                    for i in 0..=n {
                        let at = |s: &[u16], i: usize| if i < n { Some(s[i]) } else { None };
                        let prev = |s: &[u16]| if i == 0 { None } else { Some(s[i - 1]) };
                        let (gp, gt, qp, qt) =
                            (prev(&p.gold), at(&p.gold, i), prev(&path), at(&path, i));
                        if (gp, gt) != (qp, qt) {
                            let (a, b) = (trans_cell(gp, gt), trans_cell(qp, qt));
                            tw[a] += 1.0;
                            tu[a] += c;
                            tw[b] -= 1.0;
                            tu[b] -= c;
                        }
                    }
                }
                c += 1.0;
                done += 1;
                if done % 1024 == 0 {
                    progress(done as f32 / steps as f32);
                }
            }
        }
        progress(1.0);
        let average = |w: &[f32], u: &[f64]| -> Vec<f32> {
            w.iter()
                .zip(u)
                .map(|(&w, &u)| (f64::from(w) - u / c) as f32)
                .collect()
        };
        let mut weights = Weights(average(&w, &u));
        weights.keep_largest(options.max_weights);
        weights.quantise();
        Ok(SlotTagger {
            slots,
            intent_tags,
            hash_bits,
            weights,
            transitions: average(&tw, &tu),
            gazetteer,
        })
    }

    /// Slot names the tagger knows, sorted.
    pub fn slots(&self) -> &[String] {
        &self.slots
    }

    /// Slot names the tagger may produce for `intent` (those annotated with it in training),
    /// sorted; empty for an unknown intent.
    pub fn slots_for_intent(&self, intent: usize) -> Vec<&str> {
        self.intent_tags
            .get(intent)
            .map(|tags| {
                tags.iter()
                    .filter(|t| *t % 2 == 1)
                    .map(|t| self.slots[(*t as usize - 1) / 2].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Finds slot values in `text`, given its intent index (as in training).
    ///
    /// With `Some(intent)` only that intent's slots can come out; with `None` (or an intent
    /// index the tagger never saw) every slot can, without the intent-specific features.
    /// Returns spans in text order, with char offsets (end exclusive) and the covered text.
    pub fn tag(&self, text: &str, intent: Option<usize>) -> Vec<SlotSpan> {
        self.tag_utterance(&Utterance::analyze(text, ""), intent)
    }

    /// As [`SlotTagger::tag`], on a message already analysed: reads its tokens.
    pub fn tag_utterance(&self, utterance: &Utterance<'_>, intent: Option<usize>) -> Vec<SlotSpan> {
        let tokens = utterance.tokens();
        if tokens.is_empty() || self.slots.is_empty() {
            return Vec::new();
        }
        let intent = intent.filter(|&i| i < self.intent_tags.len());
        let all: Vec<u16>;
        let tags: &[u16] = match intent {
            Some(i) => &self.intent_tags[i],
            None => {
                all = (0..(1 + 2 * self.slots.len()) as u16).collect();
                &all
            }
        };
        let mut matches = Vec::new();
        self.gazetteer.matches(tokens, None, &mut matches);
        let (mut feats, mut offsets, mut mids, mut em, mut path) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        extract(
            tokens,
            intent.map(|i| i as u32),
            &matches,
            &mut feats,
            &mut offsets,
            &mut mids,
        );
        let shift = 64 - u32::from(self.hash_bits);
        let ends = &offsets[1..];
        emissions(
            &self.weights.0,
            shift,
            &feats,
            &offsets,
            ends,
            tags,
            &mut em,
        );
        viterbi(
            &em,
            tags,
            &self.transitions,
            1 + 2 * self.slots.len(),
            &mut path,
        );

        let mut spans = Vec::new();
        let mut i = 0;
        while i < path.len() {
            if path[i] % 2 == 1 {
                let mut j = i + 1;
                while j < path.len() && path[j] == path[i] + 1 {
                    j += 1;
                }
                let (start, end) = (tokens[i].start, tokens[j - 1].end);
                spans.push(SlotSpan {
                    slot: self.slots[(path[i] as usize - 1) / 2].clone(),
                    value: utterance.slice(start, end).to_owned(),
                    start,
                    end,
                });
                i = j;
            } else {
                i += 1;
            }
        }
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_tags_only_continue_their_slot() {
        assert!(may_follow(None, 1));
        assert!(!may_follow(None, 2));
        assert!(may_follow(Some(1), 2));
        assert!(may_follow(Some(2), 2));
        assert!(!may_follow(Some(3), 2));
        assert!(may_follow(Some(4), 0));
    }

    #[test]
    fn no_slots_trains_an_empty_tagger() {
        let examples = [SlotExample {
            text: "hello there",
            spans: &[],
            intent: 0,
        }];
        let tagger = SlotTagger::train(&examples, &SlotTrainOptions::default()).unwrap();
        assert!(tagger.tag("hello there", Some(0)).is_empty());
        assert!(tagger.tag("hello there", None).is_empty());
        let bytes = postcard::to_allocvec(&tagger).unwrap();
        assert_eq!(postcard::from_bytes::<SlotTagger>(&bytes).unwrap(), tagger);
    }

    #[test]
    fn bad_spans_are_refused_with_their_example() {
        let span = |start, end| SlotSpan {
            slot: "city".into(),
            value: String::new(),
            start,
            end,
        };
        let cases = [
            (vec![span(3, 40)], "past the end"),
            (vec![span(2, 2)], "empty"),
            (vec![span(0, 5), span(3, 8)], "overlaps another span"),
        ];
        for (spans, want) in cases {
            let examples = [
                SlotExample {
                    text: "fine",
                    spans: &[],
                    intent: 0,
                },
                SlotExample {
                    text: "to Paris today",
                    spans: &spans,
                    intent: 1,
                },
            ];
            match SlotTagger::train(&examples, &SlotTrainOptions::default()) {
                Err(SlotError::BadSpan {
                    example: 1, reason, ..
                }) => assert_eq!(reason, want),
                other => panic!("{want}: {other:?}"),
            }
        }
    }

    #[test]
    fn weights_survive_the_sparse_form() {
        let mut w = Weights(vec![0.0, 1.5, 0.0, -3.0, 0.0, 0.0, 0.0, 2.25]);
        w.quantise();
        let back = Weights::try_from(SparseWeights::from(w.clone())).unwrap();
        assert_eq!(back, w);
    }
}
