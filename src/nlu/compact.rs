//! The shipped form of a linear model: pruned, 8-bit weights over sorted feature buckets.
//!
//! Training produces a dense `features x labels` matrix of `f32`. Softmax probabilities do not
//! change when a constant is added to all of one feature's label weights, so each feature row is
//! first centred on its median (most entries land near zero), then quantised to `i8` with one
//! global scale, and zeros are dropped. What remains is stored per feature bucket as a sparse
//! row of `(label, weight)`; the serialized form delta-codes buckets and labels, which postcard
//! writes as short varints that gzip squeezes further.

use serde::{Deserialize, Serialize};

use super::train::Dense;
use super::NluError;

/// Sparse quantised weights: `scores[label] = bias[label] + scale * Σ value * weight`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Compact {
    pub(crate) n_labels: usize,
    /// Sorted, distinct feature buckets that have weights.
    buckets: Vec<u32>,
    /// `row_start[i]..row_start[i + 1]` are bucket `i`'s entries in `labels` and `weights`.
    row_start: Vec<u32>,
    labels: Vec<u16>,
    weights: Vec<i8>,
    scale: f32,
    bias: Vec<f32>,
    /// Rebuilt from `buckets`, never stored: `directory[k]..directory[k + 1]` are the indices
    /// of the buckets whose top bits (`bucket >> shift`) equal `k`, so a lookup is a search in
    /// a slice of one or two buckets instead of the whole list.
    directory: Vec<u32>,
    shift: u32,
}

/// The serialized layout (see the module docs).
#[derive(Serialize, Deserialize)]
pub(crate) struct CompactWire {
    n_labels: u32,
    scale: f32,
    bias: Vec<f32>,
    bucket_gaps: Vec<u32>,
    row_lens: Vec<u16>,
    label_gaps: Vec<u16>,
    weights: Vec<i8>,
}

impl Compact {
    /// Compresses a dense model whose feature `f` hashes to `buckets[f]`.
    ///
    /// Weights smaller than `min_weight` times the largest (after centring) are dropped; the
    /// quantisation step is the largest weight / 127.
    pub(crate) fn from_dense(dense: &Dense, buckets: &[u32], min_weight: f32) -> Compact {
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
        let scale = if max_abs > 0.0 { max_abs / 127.0 } else { 1.0 };
        let threshold = (min_weight * max_abs).max(0.5 * scale);
        let mut out = Compact {
            n_labels: c,
            buckets: Vec::new(),
            row_start: vec![0],
            labels: Vec::new(),
            weights: Vec::new(),
            scale,
            bias: dense.bias.clone(),
            directory: Vec::new(),
            shift: 0,
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
                if w.abs() >= threshold {
                    let q = (w / scale).round().clamp(-127.0, 127.0) as i8;
                    if q != 0 {
                        out.labels.push(label as u16);
                        out.weights.push(q);
                    }
                }
            }
            if out.labels.len() > before {
                out.buckets.push(b);
                out.row_start.push(out.labels.len() as u32);
            }
        }
        out.build_directory();
        out
    }

    /// Builds [`Compact::directory`]: about one bucket per slot, at most 2^16 slots.
    fn build_directory(&mut self) {
        let n = self.buckets.len().max(1);
        let slot_bits = (usize::BITS - n.leading_zeros()).clamp(4, 16);
        let max = self.buckets.last().copied().unwrap_or(0);
        let key_bits = 32 - max.leading_zeros();
        self.shift = key_bits.saturating_sub(slot_bits);
        let slots = (max >> self.shift) as usize + 1;
        self.directory = Vec::with_capacity(slots + 1);
        let mut i = 0usize;
        for k in 0..=slots {
            while i < self.buckets.len() && ((self.buckets[i] >> self.shift) as usize) < k {
                i += 1;
            }
            self.directory.push(i as u32);
        }
    }

    /// The row index of `bucket`, if it has weights.
    #[inline]
    fn find(&self, bucket: u32) -> Option<usize> {
        let k = (bucket >> self.shift) as usize;
        let (&lo, &hi) = (self.directory.get(k)?, self.directory.get(k + 1)?);
        let slice = &self.buckets[lo as usize..hi as usize];
        slice.iter().position(|&b| b == bucket).map(|j| lo as usize + j)
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
    pub(crate) fn scores(&self, features: &[(u32, f32)], scores: &mut [f32]) {
        scores.copy_from_slice(&self.bias);
        for &(bucket, value) in features {
            if let Some(i) = self.find(bucket) {
                let r = self.row_start[i] as usize..self.row_start[i + 1] as usize;
                let v = value * self.scale;
                for (&l, &w) in self.labels[r.clone()].iter().zip(&self.weights[r]) {
                    scores[l as usize] += v * w as f32;
                }
            }
        }
    }
}

impl From<Compact> for CompactWire {
    fn from(m: Compact) -> CompactWire {
        let mut prev = 0u32;
        let bucket_gaps = m
            .buckets
            .iter()
            .map(|&b| {
                let g = b - prev;
                prev = b;
                g
            })
            .collect();
        let mut row_lens = Vec::with_capacity(m.buckets.len());
        let mut label_gaps = Vec::with_capacity(m.labels.len());
        for r in m.row_start.windows(2) {
            row_lens.push((r[1] - r[0]) as u16);
            let mut prev = 0u16;
            for &l in &m.labels[r[0] as usize..r[1] as usize] {
                label_gaps.push(l - prev);
                prev = l;
            }
        }
        CompactWire {
            n_labels: m.n_labels as u32,
            scale: m.scale,
            bias: m.bias,
            bucket_gaps,
            row_lens,
            label_gaps,
            weights: m.weights,
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
        if w.row_lens.len() != w.bucket_gaps.len() {
            return Err(corrupt("row count differs from bucket count"));
        }
        if w.label_gaps.len() != w.weights.len() {
            return Err(corrupt("label count differs from weight count"));
        }
        if !w.scale.is_finite() || w.bias.iter().any(|b| !b.is_finite()) {
            return Err(corrupt("non-finite weight scale or bias"));
        }
        let mut buckets = Vec::with_capacity(w.bucket_gaps.len());
        let mut b = 0u32;
        for (i, &g) in w.bucket_gaps.iter().enumerate() {
            if i > 0 && g == 0 {
                return Err(corrupt("feature buckets are not increasing"));
            }
            b = b.checked_add(g).ok_or_else(|| corrupt("feature bucket overflows"))?;
            buckets.push(b);
        }
        let mut row_start = Vec::with_capacity(buckets.len() + 1);
        row_start.push(0u32);
        let mut labels = Vec::with_capacity(w.label_gaps.len());
        let mut at = 0usize;
        for &len in &w.row_lens {
            let end = at + len as usize;
            if end > w.label_gaps.len() {
                return Err(corrupt("rows run past the stored weights"));
            }
            let mut l = 0u32;
            for (k, &g) in w.label_gaps[at..end].iter().enumerate() {
                l += g as u32;
                if l as usize >= n_labels || (k > 0 && g == 0) {
                    return Err(corrupt("label out of range or repeated in a row"));
                }
                labels.push(l as u16);
            }
            at = end;
            row_start.push(at as u32);
        }
        if at != w.label_gaps.len() {
            return Err(corrupt("weights left over after the last row"));
        }
        let mut out = Compact {
            n_labels,
            buckets,
            row_start,
            labels,
            weights: w.weights,
            scale: w.scale,
            bias: w.bias,
            directory: Vec::new(),
            shift: 0,
        };
        out.build_directory();
        Ok(out)
    }
}
