//! The shipped form of a linear model: pruned, 5-bit weights over sorted feature buckets.
//!
//! Training produces a dense `features x labels` matrix of `f32`. Softmax probabilities do not
//! change when a constant is added to all of one feature's label weights, so each feature row is
//! first centred on its median (most entries land near zero), then quantised with one global
//! scale to a signed-square code `q` in `-LEVELS..=LEVELS` (weight = `scale * q * |q|`, so
//! small weights keep finer steps than large ones), and zeros are dropped. What remains is stored per feature bucket as a sparse
//! row of `(label, weight)`, with, for a model trained with idf weighting, the bucket's idf as
//! one of [`IDF_LEVELS`] codes (a bucket without a row reads the largest idf); the serialized
//! form range-codes the rows (`nlu/coding.rs`).
//!
//! Scoring is the hot path of classification. Loading builds an index beside the rows: a
//! directory on the buckets' top bits whose entries point into one array of `(bucket, row)`
//! records, so a lookup reads two nearby cache lines; and the rows of the few features that
//! weigh on most labels (common character n-grams such as " th") are also kept dense, one `i8`
//! per label, and added without per-entry label indices. Both give the same sums, term by
//! term, as the sparse rows.

use serde::{Deserialize, Serialize};

use super::coding;
use super::train::Dense;
use super::NluError;

/// Sparse quantised weights: `scores[label] = bias[label] + scale * Σ value * q * |q|` over
/// the stored codes `q` ([`LEVELS`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Compact {
    pub(crate) n_labels: usize,
    /// One record per feature bucket that has weights, sorted by bucket, then an end sentinel:
    /// `index[i].start..index[i + 1].start` are bucket `i`'s entries in `labels` and `weights`.
    index: Vec<RowRef>,
    labels: Vec<u16>,
    weights: Vec<i8>,
    scale: f32,
    bias: Vec<f32>,
    /// Rebuilt from the buckets, never stored: `directory[k]..directory[k + 1]` are the indices
    /// of the buckets whose top bits (`bucket >> shift`) equal `k`, so a lookup is a search in
    /// a slice of one or two buckets instead of the whole list.
    directory: Vec<u32>,
    shift: u32,
    /// Rebuilt, never stored: the dense copies of long rows, `n_labels` weights each, as `f32`
    /// (the same values as the `i8` weights, converted once at load instead of per use).
    dense: Vec<f32>,
    /// The inverse document frequency code of each row (`index[i]`'s is `idf[i]`), in
    /// `0..IDF_LEVELS`; empty for a model trained without idf weighting ([`Compact::idf`]).
    idf: Vec<u8>,
    /// The largest idf, a bucket's that no training example had: `ln(1 + n) + 1` for `n`
    /// examples; 0 for a model without idf weighting.
    idf_max: f32,
}

pub(crate) use super::coding::IDF_LEVELS;

/// The idf of code `code` for a model whose largest idf is `max`.
#[inline]
pub(crate) fn idf_value(code: u8, max: f32) -> f32 {
    1.0 + (max - 1.0) * f32::from(code) / f32::from(IDF_LEVELS - 1)
}

/// The code nearest to `idf` (clamped to `1..=max`).
pub(crate) fn idf_code(idf: f32, max: f32) -> u8 {
    if max <= 1.0 {
        return 0;
    }
    ((idf - 1.0) / (max - 1.0) * f32::from(IDF_LEVELS - 1)).round().clamp(0.0, f32::from(IDF_LEVELS - 1)) as u8
}

/// Where a bucket's weights are: its bucket, its sparse row's start in `labels`/`weights`
/// (the row ends where the next record's starts) and, for a long row, the start of its dense
/// copy in [`Compact::dense`] (`NOT_DENSE` otherwise).
#[derive(Debug, Clone, Copy, PartialEq)]
struct RowRef {
    bucket: u32,
    start: u32,
    dense: u32,
}

/// The largest stored weight code: codes are `-LEVELS..=LEVELS` (31 values) and weigh
/// `q * |q|` steps of the scale, square-root companding (as μ-law does for audio) that keeps
/// the many small weights apart with 5 bits. Chosen by 5-fold cross-validation over the demo
/// store bot's examples (`tests/threshold_calibration.rs`), against the 8-bit linear codes
/// before: top-1 0.817 -> 0.816, balanced score at the default threshold 0.790 -> 0.790, and
/// the English visitor's first load of the model 224.4 -> 191.6 KB gzip (gzip squeezes the
/// fewer distinct codes); 7 levels saved 15 KB more but lost 0.4 points of top-1, 11 levels
/// 0.7 points; a cube root instead of the square root (15 levels) lost 0.2.
pub(crate) const LEVELS: i8 = 15;

/// The weight of code `q` in steps of the scale: `q * |q|`.
#[inline]
fn code_value(q: i8) -> f32 {
    let q = f32::from(q);
    q * q.abs()
}

/// [`RowRef::dense`] of a row kept only sparse.
const NOT_DENSE: u32 = u32::MAX;

/// A row with at least this share of the labels (in 1/8ths) is also kept dense: adding a zero
/// costs less than reading a label index, once most entries are non-zero.
const DENSE_EIGHTHS: usize = 5;

/// The serialized layout (see the module docs).
#[derive(Serialize, Deserialize)]
pub(crate) struct CompactWire {
    n_labels: u32,
    scale: f32,
    bias: Vec<f32>,
    /// How many rows [`CompactWire::coded`] holds.
    rows: u32,
    /// [`Compact::idf_max`]: 0 when the rows carry no idf codes.
    idf_max: f32,
    /// The rows, range-coded ([`coding`]).
    coded: Vec<u8>,
}

impl Compact {
    /// Compresses a dense model whose feature `f` hashes to `buckets[f]`.
    ///
    /// Positive weights smaller than `min_weight` times the largest magnitude (after centring)
    /// are dropped, negative ones smaller than `min_negative` times it; the codes are
    /// [`LEVELS`] signed-square steps of that magnitude.
    ///
    /// `idf`, for a model trained with idf weighting, gives each bucket's idf code and the
    /// largest idf ([`Compact::idf`]).
    pub(crate) fn from_dense(
        dense: &Dense,
        buckets: &[u32],
        min_weight: f32,
        min_negative: f32,
        idf: Option<(&dyn Fn(u32) -> u8, f32)>,
    ) -> Compact {
        let c = dense.n_labels;
        let mut order: Vec<usize> = (0..buckets.len()).collect();
        order.sort_unstable_by_key(|&f| buckets[f]);
        let mut centred = vec![0.0f32; dense.weights.len()];
        let mut tmp = vec![0.0f32; c];
        let mut max_abs = 0.0f32;
        if c > 0 {
            for f in 0..buckets.len() {
                let row = &dense.weights[f * c..][..c];
                tmp.copy_from_slice(row);
                let mid = c / 2;
                let (_, median, _) = tmp.select_nth_unstable_by(mid, f32::total_cmp);
                let median = *median;
                for (o, w) in centred[f * c..][..c].iter_mut().zip(row) {
                    *o = w - median;
                    max_abs = max_abs.max(o.abs());
                }
            }
        }
        let levels = f32::from(LEVELS);
        let scale = if max_abs > 0.0 { max_abs / (levels * levels) } else { 1.0 };
        let threshold = min_weight * max_abs;
        let negative_threshold = min_negative * max_abs;
        let mut row_buckets = Vec::new();
        let mut row_start = vec![0u32];
        let mut out = Compact {
            n_labels: c,
            index: Vec::new(),
            labels: Vec::new(),
            weights: Vec::new(),
            scale,
            bias: dense.bias.clone(),
            directory: Vec::new(),
            shift: 0,
            dense: Vec::new(),
            idf: Vec::new(),
            idf_max: idf.map_or(0.0, |(_, max)| max),
        };
        let mut i = 0;
        while i < order.len() {
            // Features whose buckets collide merge into one row.
            let b = buckets[order[i]];
            tmp.fill(0.0);
            while i < order.len() && buckets[order[i]] == b {
                for (t, w) in tmp.iter_mut().zip(&centred[order[i] * c..][..c]) {
                    *t += w;
                }
                i += 1;
            }
            let before = out.labels.len();
            for (label, &w) in tmp.iter().enumerate() {
                if w.abs() >= if w < 0.0 { negative_threshold } else { threshold } {
                    let q = (w.signum() * (levels * (w.abs() / max_abs).sqrt()).round()).clamp(-levels, levels) as i8;
                    if q != 0 {
                        out.labels.push(label as u16);
                        out.weights.push(q);
                    }
                }
            }
            if out.labels.len() > before {
                row_buckets.push(b);
                row_start.push(out.labels.len() as u32);
                if let Some((code, _)) = idf {
                    out.idf.push(code(b));
                }
            }
        }
        out.build_index(&row_buckets, &row_start);
        out
    }

    /// Builds [`Compact::index`] from sorted distinct `buckets` whose rows start at
    /// `row_start` (one more entry than `buckets`: the end), then the lookup structures that
    /// are never stored, [`Compact::dense`] and [`Compact::directory`].
    fn build_index(&mut self, buckets: &[u32], row_start: &[u32]) {
        let c = self.n_labels;
        self.index = Vec::with_capacity(buckets.len() + 1);
        self.dense = Vec::new();
        for (i, &bucket) in buckets.iter().enumerate() {
            let (a, b) = (row_start[i] as usize, row_start[i + 1] as usize);
            let mut dense = NOT_DENSE;
            if c > 0 && (b - a) * 8 >= c * DENSE_EIGHTHS {
                dense = self.dense.len() as u32;
                self.dense.resize(self.dense.len() + c, 0.0);
                let row = &mut self.dense[dense as usize..];
                for (&l, &w) in self.labels[a..b].iter().zip(&self.weights[a..b]) {
                    row[l as usize] = code_value(w);
                }
            }
            self.index.push(RowRef { bucket, start: a as u32, dense });
        }
        let end = row_start.last().copied().unwrap_or(0);
        self.index.push(RowRef { bucket: u32::MAX, start: end, dense: NOT_DENSE });
        self.build_directory(buckets);
    }

    /// Builds [`Compact::directory`] over the sorted `buckets`: about one bucket per slot, at
    /// most 2^16 slots.
    fn build_directory(&mut self, buckets: &[u32]) {
        let n = buckets.len().max(1);
        let slot_bits = (usize::BITS - n.leading_zeros()).clamp(4, 16);
        let max = buckets.last().copied().unwrap_or(0);
        let key_bits = 32 - max.leading_zeros();
        self.shift = key_bits.saturating_sub(slot_bits);
        let slots = (max >> self.shift) as usize + 1;
        self.directory = Vec::with_capacity(slots + 1);
        let mut i = 0usize;
        for k in 0..=slots {
            while i < buckets.len() && ((buckets[i] >> self.shift) as usize) < k {
                i += 1;
            }
            self.directory.push(i as u32);
        }
    }

    /// The idf of `bucket` for a model trained with idf weighting: its row's, or the largest
    /// for a bucket without a row (one no example had, or whose weights were all pruned);
    /// `None` for a model without idf weighting.
    pub(crate) fn idf(&self, bucket: u32) -> Option<f32> {
        if self.idf_max <= 0.0 {
            return None;
        }
        Some(match self.find(bucket) {
            Some(i) => idf_value(self.idf.get(i).copied().unwrap_or(IDF_LEVELS - 1), self.idf_max),
            None => self.idf_max,
        })
    }

    /// Whether the model was trained with idf weighting ([`Compact::idf`]).
    pub(crate) fn has_idf(&self) -> bool {
        self.idf_max > 0.0
    }

    /// True when `bucket` has weights.
    pub(crate) fn has(&self, bucket: u32) -> bool {
        self.find(bucket).is_some()
    }

    /// The row index of `bucket`, if it has weights.
    #[inline]
    fn find(&self, bucket: u32) -> Option<usize> {
        let k = (bucket >> self.shift) as usize;
        let (&lo, &hi) = (self.directory.get(k)?, self.directory.get(k + 1)?);
        let slice = self.index.get(lo as usize..hi as usize)?;
        slice.iter().position(|r| r.bucket == bucket).map(|j| lo as usize + j)
    }

    /// Splits the model's rows by bucket: the rows whose bucket satisfies `take` go into the
    /// returned model (same labels, scale and bias), the others stay (`keep_taken` leaves the
    /// taken rows here too). How a model file is split into a common part and one part per
    /// locale ([`crate::model`]); [`Compact::absorb`] puts them back together, and scores over
    /// the merged rows are the same as before the split.
    pub(crate) fn split_off(&mut self, take: impl Fn(u32) -> bool, keep_taken: bool) -> Compact {
        let mut parts = [
            (Vec::new(), vec![0u32], Vec::new(), Vec::new(), Vec::new()),
            (Vec::new(), vec![0u32], Vec::new(), Vec::new(), Vec::new()),
        ];
        for (row, r) in self.index.windows(2).enumerate() {
            let taken = take(r[0].bucket);
            let range = r[0].start as usize..r[1].start as usize;
            for (i, part) in parts.iter_mut().enumerate() {
                if (i == 1 && taken) || (i == 0 && (!taken || keep_taken)) {
                    part.0.push(r[0].bucket);
                    part.2.extend_from_slice(&self.labels[range.clone()]);
                    part.3.extend_from_slice(&self.weights[range.clone()]);
                    part.1.push(part.2.len() as u32);
                    part.4.extend(self.idf.get(row));
                }
            }
        }
        let [(keep_b, keep_s, keep_l, keep_w, keep_i), (take_b, take_s, take_l, take_w, take_i)] = parts;
        let mut taken = Compact {
            labels: take_l,
            weights: take_w,
            bias: self.bias.clone(),
            idf: take_i,
            idf_max: self.idf_max,
            ..Compact::empty(self.n_labels, self.scale)
        };
        taken.build_index(&take_b, &take_s);
        self.labels = keep_l;
        self.weights = keep_w;
        self.idf = keep_i;
        self.build_index(&keep_b, &keep_s);
        taken
    }

    /// Adds the rows of `part` (split off this model by [`Compact::split_off`]).
    ///
    /// # Errors
    /// [`NluError::PartMismatch`] when `part` has other labels, scale or bias, or a row
    /// that differs from this model's row of the same bucket (it was split off another
    /// model). Rows this model has already (parts overlap) are skipped.
    pub(crate) fn absorb(&mut self, part: &Compact) -> Result<(), NluError> {
        if part.n_labels != self.n_labels
            || part.scale.to_bits() != self.scale.to_bits()
            || part.bias != self.bias
            || part.idf_max.to_bits() != self.idf_max.to_bits()
        {
            return Err(NluError::PartMismatch("its weights were split off another model".into()));
        }
        let rows = |m: &Compact| -> Vec<(u32, usize, usize, Option<u8>)> {
            m.index
                .windows(2)
                .enumerate()
                .map(|(row, r)| (r[0].bucket, r[0].start as usize, r[1].start as usize, m.idf.get(row).copied()))
                .collect()
        };
        let (mine, theirs) = (rows(self), rows(part));
        let (mut buckets, mut starts, mut labels, mut weights, mut idf) =
            (Vec::new(), vec![0u32], Vec::new(), Vec::new(), Vec::new());
        let (mut i, mut j) = (0, 0);
        while i < mine.len() || j < theirs.len() {
            let from_mine = j == theirs.len() || (i < mine.len() && mine[i].0 < theirs[j].0);
            let (m, (b, a, e, code)) = if from_mine { (&*self, mine[i]) } else { (part, theirs[j]) };
            if !from_mine && i < mine.len() && mine[i].0 == b {
                let (x, y) = (mine[i].1..mine[i].2, a..e);
                if self.labels[x.clone()] != part.labels[y.clone()] || self.weights[x] != part.weights[y] || mine[i].3 != code
                {
                    return Err(NluError::PartMismatch(format!("its weights for feature bucket {b} differ")));
                }
                j += 1;
                continue;
            }
            buckets.push(b);
            labels.extend_from_slice(&m.labels[a..e]);
            weights.extend_from_slice(&m.weights[a..e]);
            idf.extend(code);
            starts.push(labels.len() as u32);
            if from_mine { i += 1 } else { j += 1 }
        }
        self.labels = labels;
        self.weights = weights;
        self.idf = idf;
        self.build_index(&buckets, &starts);
        Ok(())
    }

    /// A model with no rows.
    fn empty(n_labels: usize, scale: f32) -> Compact {
        Compact {
            n_labels,
            index: Vec::new(),
            labels: Vec::new(),
            weights: Vec::new(),
            scale,
            bias: vec![0.0; n_labels],
            directory: Vec::new(),
            shift: 0,
            dense: Vec::new(),
            idf: Vec::new(),
            idf_max: 0.0,
        }
    }

    /// Number of stored non-zero weights.
    pub(crate) fn n_weights(&self) -> usize {
        self.weights.len()
    }

    /// The share (0 to 1) of the features' squared L2 mass that falls on buckets with weights.
    pub(crate) fn coverage(&self, features: &[(u32, f32)]) -> f32 {
        let mut total = 0.0f32;
        let mut known = 0.0f32;
        for &(bucket, value) in features {
            total += value * value;
            if self.find(bucket).is_some() {
                known += value * value;
            }
        }
        if total > 0.0 {
            known / total
        } else {
            0.0
        }
    }

    /// Writes label scores (logits) for `features` into `scores` (length `n_labels`).
    ///
    /// Per label, the terms are added in feature order, whichever form a row is read in.
    pub(crate) fn scores(&self, features: &[(u32, f32)], scores: &mut [f32]) {
        scores.copy_from_slice(&self.bias);
        let c = self.n_labels;
        for &(bucket, value) in features {
            let Some(i) = self.find(bucket) else { continue };
            let (row, next) = (self.index[i], self.index[i + 1]);
            let v = value * self.scale;
            if row.dense != NOT_DENSE {
                let weights = &self.dense[row.dense as usize..][..c];
                // Four labels a step: fewer loop branches in WebAssembly, where nothing unrolls
                // this at opt-level "z".
                let mut s4 = scores.chunks_exact_mut(4);
                let mut w4 = weights.chunks_exact(4);
                for (s, w) in (&mut s4).zip(&mut w4) {
                    s[0] += v * w[0];
                    s[1] += v * w[1];
                    s[2] += v * w[2];
                    s[3] += v * w[3];
                }
                for (s, &w) in s4.into_remainder().iter_mut().zip(w4.remainder()) {
                    *s += v * w;
                }
            } else {
                let r = row.start as usize..next.start as usize;
                for (&l, &w) in self.labels[r.clone()].iter().zip(&self.weights[r]) {
                    scores[l as usize] += v * code_value(w);
                }
            }
        }
    }
}

impl From<Compact> for CompactWire {
    fn from(m: Compact) -> CompactWire {
        let rows = m.index.len().saturating_sub(1);
        let coded = coding::Rows {
            buckets: m.index[..rows].iter().map(|r| r.bucket).collect(),
            row_start: m.index.iter().map(|r| r.start).collect(),
            labels: m.labels,
            codes: m.weights,
            idf: m.idf,
        };
        CompactWire {
            n_labels: m.n_labels as u32,
            scale: m.scale,
            bias: m.bias,
            rows: rows as u32,
            idf_max: m.idf_max,
            coded: coding::encode(&coded, m.n_labels, LEVELS),
        }
    }
}

impl TryFrom<CompactWire> for Compact {
    type Error = NluError;

    fn try_from(w: CompactWire) -> Result<Compact, NluError> {
        let corrupt = |what: &str| NluError::Corrupt(what.to_string());
        let n_labels = w.n_labels as usize;
        if w.bias.len() != n_labels {
            return Err(corrupt("bias length differs from the number of labels"));
        }
        if !w.scale.is_finite() || w.bias.iter().any(|b| !b.is_finite()) {
            return Err(corrupt("non-finite weight scale or bias"));
        }
        if !w.idf_max.is_finite() || w.idf_max < 0.0 {
            return Err(corrupt("the largest idf is not a finite number >= 0"));
        }
        let has_idf = w.idf_max > 0.0;
        let coding::Rows { buckets, row_start, labels, codes, idf } =
            coding::decode(&w.coded, w.rows as usize, n_labels, LEVELS, has_idf)?;
        let mut out = Compact {
            n_labels,
            index: Vec::new(),
            labels,
            weights: codes,
            scale: w.scale,
            bias: w.bias,
            directory: Vec::new(),
            shift: 0,
            dense: Vec::new(),
            idf,
            idf_max: w.idf_max,
        };
        out.build_index(&buckets, &row_start);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_then_absorb_gives_the_same_scores() {
        let whole = model();
        let features = [(7, 1.0), (900, 0.5), (1 << 21, 0.25), (44, 1.0)];
        for keep_taken in [false, true] {
            let mut common = whole.clone();
            let part = common.split_off(|b| b < 100, keep_taken);
            assert!(part.n_weights() > 0 && common.n_weights() > 0);
            assert_eq!(part.n_weights() + common.n_weights() - if keep_taken { part.n_weights() } else { 0 }, whole.n_weights());
            let (mut a, mut b) = (vec![0.0; 8], vec![0.0; 8]);
            let mut merged = common.clone();
            merged.absorb(&part).unwrap();
            merged.scores(&features, &mut a);
            whole.scores(&features, &mut b);
            assert_eq!(a, b);
            assert_eq!(merged, whole);
            merged.absorb(&part).unwrap();
            assert_eq!(merged, whole, "a part whose rows are loaded already changes nothing");
        }
        let mut other = model();
        other.scale *= 2.0;
        let mut common = whole.clone();
        assert!(matches!(common.absorb(&other.split_off(|b| b < 100, false)), Err(NluError::PartMismatch(_))));
        let mut changed = model();
        changed.weights[0] += 1;
        assert!(matches!(common.absorb(&changed), Err(NluError::PartMismatch(_))), "same bucket, other weights");
    }

    /// Eight labels, five features; feature 0 weighs on every label (a dense row), feature 1
    /// on two (sparse), features 2 and 3 share a bucket, feature 4 is all median (dropped).
    fn model() -> Compact {
        let mut weights = vec![0.0f32; 5 * 8];
        for (l, w) in weights[..8].iter_mut().enumerate() {
            *w = l as f32 - 3.5;
        }
        weights[8 + 2] = 2.0;
        weights[8 + 6] = -1.5;
        weights[16 + 1] = 0.75;
        weights[24 + 1] = 0.5;
        weights[24 + 7] = -3.0;
        let dense = Dense { n_labels: 8, weights, bias: vec![0.25, -0.5, 0.0, 0.0, 1.0, 0.0, 0.0, -1.0] };
        Compact::from_dense(&dense, &[900, 7, 1 << 21, 1 << 21, 44], 0.0, 0.0, None)
    }

    /// The scores read only from the sparse rows, the straightforward way.
    fn sparse_scores(m: &Compact, features: &[(u32, f32)]) -> Vec<f32> {
        let mut scores = m.bias.clone();
        for &(bucket, value) in features {
            if let Some(i) = m.index[..m.index.len() - 1].iter().position(|r| r.bucket == bucket) {
                let r = m.index[i].start as usize..m.index[i + 1].start as usize;
                for (&l, &w) in m.labels[r.clone()].iter().zip(&m.weights[r]) {
                    scores[l as usize] += value * m.scale * code_value(w);
                }
            }
        }
        scores
    }

    #[test]
    fn dense_rows_score_exactly_as_sparse_ones() {
        let m = model();
        assert_eq!(m.index.len() - 1, 3, "the all-median feature has no row");
        assert_eq!(m.dense.len(), 8, "one dense row");
        let features = [(7, 0.5), (900, 0.3), (1 << 21, -0.7), (44, 1.0), (12345, 0.9)];
        let mut scores = vec![0.0; 8];
        m.scores(&features, &mut scores);
        assert_eq!(scores, sparse_scores(&m, &features));
        assert!((m.coverage(&features) - (0.25 + 0.09 + 0.49) / (0.25 + 0.09 + 0.49 + 1.0 + 0.81)).abs() < 1e-6);
    }

    #[test]
    fn round_trips_through_the_wire_form() {
        let m = model();
        let back = Compact::try_from(CompactWire::from(m.clone())).unwrap();
        assert_eq!(back, m);
        let empty = Compact::from_dense(&Dense { n_labels: 3, weights: vec![], bias: vec![0.0; 3] }, &[], 0.0, 0.0, None);
        let mut scores = vec![1.0; 3];
        empty.scores(&[(5, 1.0)], &mut scores);
        assert_eq!(scores, vec![0.0; 3]);
        assert_eq!(Compact::try_from(CompactWire::from(empty.clone())).unwrap(), empty);
        let mut wire = CompactWire::from(m);
        wire.rows += 5;
        assert!(matches!(Compact::try_from(wire), Err(NluError::Corrupt(_))), "more rows than were coded");
    }

    #[test]
    fn codes_keep_each_weight_within_half_a_step_of_its_square_root() {
        // Feature 1's row, centred on its median (0), weighs 2.0 and -1.5 on labels 2 and 6;
        // the largest centred weight in the model is -4.0 (feature 0, whose median is 0.5,
        // on label 0).
        let m = model();
        let row = m.index.iter().position(|r| r.bucket == 7).unwrap();
        let r = m.index[row].start as usize..m.index[row + 1].start as usize;
        let max = 4.0f32;
        for (&l, &q) in m.labels[r.clone()].iter().zip(&m.weights[r]) {
            let want: f32 = [0.0, 0.0, 2.0, 0.0, 0.0, 0.0, -1.5, 0.0][l as usize];
            let got = m.scale * code_value(q);
            assert!(q.abs() <= LEVELS && q != 0);
            let levels = f32::from(LEVELS);
            let (a, b) = ((got.abs() / max).sqrt() * levels, (want.abs() / max).sqrt() * levels);
            assert!((a - b).abs() <= 0.5 + 1e-5 && got.signum() == want.signum(), "label {l}: {got} for {want}");
        }
    }
}
