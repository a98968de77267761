//! Multinomial logistic regression on sparse features, trained by stochastic gradient descent.
//!
//! The objective is the mean cross-entropy of the softmax (against label-smoothed targets when
//! asked) plus `l2/2 * |W|²`. SGD visits the examples in a seeded random order each epoch with a
//! learning rate that decays linearly to zero (as fastText does); the L2 shrinkage is applied
//! lazily through one scale factor (Bottou, 2012, "Stochastic Gradient Descent Tricks", section
//! 5.1), so an update costs only the example's non-zero features times the number of labels.
//! The weight matrix is laid out one row of labels per feature, so both the forward and the
//! backward pass run over contiguous memory the compiler vectorises.
use crate::text::SplitMix64;


/// Examples in compressed sparse row form.
#[derive(Debug, Default)]
pub(crate) struct Sparse {
    /// `offsets[i]..offsets[i + 1]` indexes example `i`'s features in `index` and `value`.
    pub(crate) offsets: Vec<usize>,
    /// Dense feature indices (`0..n_features`).
    pub(crate) index: Vec<u32>,
    /// Feature values.
    pub(crate) value: Vec<f32>,
}

impl Sparse {
    pub(crate) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub(crate) fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.offsets[i]..self.offsets[i + 1];
        (&self.index[r.clone()], &self.value[r])
    }
}

/// Gradients (probability errors) below this are skipped in the backward pass.
const GRADIENT_FLOOR: f32 = 1e-3;

/// Settings of [`softmax_sgd`].
#[derive(Debug, Clone)]
pub(crate) struct SgdParams {
    pub(crate) epochs: u32,
    pub(crate) learning_rate: f32,
    pub(crate) l2: f32,
    pub(crate) seed: u64,
    pub(crate) label_smoothing: f32,
}

/// A trained dense linear model: `scores = bias + x · weights`, `weights[f * n_labels + label]`.
#[derive(Debug)]
pub(crate) struct Dense {
    pub(crate) n_labels: usize,
    pub(crate) weights: Vec<f32>,
    pub(crate) bias: Vec<f32>,
}

impl Dense {
    /// Multiplies every score by `k` (weights and biases alike): the best label stays the
    /// same, probabilities sharpen (`k > 1`) or flatten.
    pub(crate) fn scale_logits(&mut self, k: f32) {
        for w in self.weights.iter_mut().chain(self.bias.iter_mut()) {
            *w *= k;
        }
    }
}

/// In-place softmax; returns nothing, leaves probabilities summing to 1.
pub(crate) fn softmax(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in z.iter_mut() {
        *v *= inv;
    }
}

/// Trains softmax regression on `x` (rows) with labels `y` (each `< n_labels`).
///
/// `progress` is called with the fraction done in [0, 1] about a hundred times.
pub(crate) fn softmax_sgd(
    x: &Sparse,
    y: &[u32],
    n_features: usize,
    n_labels: usize,
    params: &SgdParams,
    progress: &mut dyn FnMut(f32),
) -> Dense {
    let c = n_labels;
    let mut w = vec![0.0f32; n_features * c];
    let mut bias = vec![0.0f32; c];
    // Start the bias at the log prior so early updates go to the features.
    let mut counts = vec![0.0f32; c];
    for &l in y {
        counts[l as usize] += 1.0;
    }
    for (b, n) in bias.iter_mut().zip(&counts) {
        *b = (n + 1.0).ln();
    }
    let n = x.len();
    let total = (params.epochs as usize * n).max(1);
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut rng = SplitMix64(params.seed);
    let mut scale = 1.0f32;
    let mut z = vec![0.0f32; c];
    let mut active: Vec<u32> = Vec::with_capacity(c);
    let mut t = 0usize;
    let report_every = (total / 100).max(1);
    // In WebAssembly, V8 first runs baseline code and swaps in optimised code only when a
    // function is entered again (it has no on-stack replacement for wasm), so the updates run in
    // a function called once per example rather than in this loop: run inline here, the first
    // training in a fresh page stayed in baseline code throughout and took twice as long as the
    // next. wasm-opt inlines every function that has a single caller, so the call goes through
    // a pointer it cannot see through (one indirect call per example).
    let step: StepFn = std::hint::black_box(sgd_step);
    for _epoch in 0..params.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let lr = params.learning_rate * (1.0 - t as f32 / total as f32);
            t += 1;
            if t % report_every == 0 {
                progress(t as f32 / total as f32);
            }
            let (idx, val) = x.row(i as usize);
            let example = Example { idx, val, label: y[i as usize] as usize };
            scale = step(&mut w, &mut bias, &mut z, &mut active, scale, &example, lr, params);
        }
    }
    if scale != 1.0 {
        for wi in w.iter_mut() {
            *wi *= scale;
        }
    }
    progress(1.0);
    Dense { n_labels: c, weights: w, bias }
}

/// One training example: its feature indices and values, and its label.
struct Example<'a> {
    idx: &'a [u32],
    val: &'a [f32],
    label: usize,
}

/// The type of [`sgd_step`].
type StepFn = fn(&mut [f32], &mut [f32], &mut [f32], &mut Vec<u32>, f32, &Example, f32, &SgdParams) -> f32;

/// One SGD update at learning rate `lr` of the weights `w` (`w[f * c + label]`, times the
/// lazy L2 factor `scale`) and biases `bias` (`c` labels) on `example`; `z` (length `c`) and
/// `active` are scratch. Returns the new `scale`.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn sgd_step(
    w: &mut [f32],
    bias: &mut [f32],
    z: &mut [f32],
    active: &mut Vec<u32>,
    mut scale: f32,
    example: &Example,
    lr: f32,
    params: &SgdParams,
) -> f32 {
    let c = bias.len();
    let (idx, val) = (example.idx, example.val);
    z.fill(0.0);
    for (&f, &v) in idx.iter().zip(val) {
        let at = f as usize * c;
        let row = &w[at..at + c];
        for (zi, wi) in z.iter_mut().zip(row) {
            *zi += v * wi;
        }
    }
    for (zi, bi) in z.iter_mut().zip(bias.iter()) {
        *zi = *zi * scale + bi;
    }
    softmax(z);
    // Label smoothing's target is 1 - ε + ε/c for the true label and ε/c for every
    // other; the uniform ε/c moves all of a feature's label weights alike, which the
    // softmax ignores, so it is left out and the other labels' gradients stay sparse.
    z[example.label] -= 1.0 - params.label_smoothing;
    // Lazy L2: W_true = scale * W, so shrinking W_true shrinks only `scale`.
    scale *= 1.0 - lr * params.l2;
    let step = lr / scale;
    // Late in training most labels' gradients are negligible: update only the others.
    active.clear();
    active.extend((0..c as u32).filter(|&l| z[l as usize].abs() > GRADIENT_FLOOR));
    if active.len() * 4 < c {
        for (&f, &v) in idx.iter().zip(val) {
            let a = step * v;
            let at = f as usize * c;
            let row = &mut w[at..at + c];
            for &l in active.iter() {
                row[l as usize] -= a * z[l as usize];
            }
        }
    } else {
        for (&f, &v) in idx.iter().zip(val) {
            let a = step * v;
            let at = f as usize * c;
            let row = &mut w[at..at + c];
            for (wi, gi) in row.iter_mut().zip(z.iter()) {
                *wi -= a * gi;
            }
        }
    }
    for (bi, gi) in bias.iter_mut().zip(z.iter()) {
        *bi -= lr * gi;
    }
    if scale < 1e-6 {
        for wi in w.iter_mut() {
            *wi *= scale;
        }
        scale = 1.0;
    }
    scale
}
