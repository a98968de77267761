//! One stable sort for the whole core, to keep the wasm bundle small.
//!
//! Every `slice::sort_by` call with a new element type or closure makes the compiler emit its own
//! copy of std's driftsort (about 3-5 KB of wasm each). Here one merge sort is compiled once, on
//! a permutation of `u32` indices with a `&dyn` comparator; the generic [`sort_by`] only
//! computes that permutation and applies it with swaps. Equal elements keep their order, exactly
//! as with `slice::sort_by`. [`sort_u32`] (a heapsort) sorts the hashed feature buckets of a
//! message, where std's `sort_unstable` would bring its quicksort.

use std::cmp::Ordering;

/// Sorts `v` stably by `cmp`, like `v.sort_by(cmp)`: equal elements keep their order.
///
/// Takes the slice and a total order on its elements; returns nothing (sorts in place). Costs
/// O(n log n) comparisons plus O(n) swaps and one `Vec<u32>` of n indices.
pub(crate) fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let perm = permutation(v.len(), &|a, b| cmp(&v[a], &v[b]));
    for (a, b) in swaps(perm) {
        v.swap(a as usize, b as usize);
    }
}

/// Sorts `v` stably by the key `key` returns, like `v.sort_by_key(key)`.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// The stable sorting permutation of `0..n` under `cmp` on indices: entry k is the index of the
/// element that belongs at position k. A bottom-up merge sort (n log n comparisons, one buffer
/// of n indices): the core's one sort, written here so that the wasm carries no copy of std's
/// driftsort for it.
fn permutation(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<u32> {
    let mut a: Vec<u32> = (0..n as u32).collect();
    let mut b = vec![0u32; n];
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j, mut k) = (lo, mid, lo);
            while i < mid && j < hi {
                // The right run's element goes first only when strictly smaller: stable.
                if cmp(a[j] as usize, a[i] as usize) == Ordering::Less {
                    b[k] = a[j];
                    j += 1;
                } else {
                    b[k] = a[i];
                    i += 1;
                }
                k += 1;
            }
            b[k..k + (mid - i)].copy_from_slice(&a[i..mid]);
            k += mid - i;
            b[k..k + (hi - j)].copy_from_slice(&a[j..hi]);
            lo = hi;
        }
        std::mem::swap(&mut a, &mut b);
        width *= 2;
    }
    a
}

/// Sorts `v` ascending in place, like `v.sort_unstable()` (integers have no visible order
/// among equals, so the result is the same): a heapsort, a few hundred bytes of wasm where
/// std's pattern-defeating quicksort costs about 4 KiB. No allocation, O(n log n).
pub(crate) fn sort_u32(v: &mut [u32]) {
    fn sift_down(v: &mut [u32], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && v[child] < v[child + 1] {
                child += 1;
            }
            if v[root] >= v[child] {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift_down(v, i, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// The swaps that turn `old` into `new` with `new[k] = old[perm[k]]`, cycle by cycle: along a
/// cycle `i -> perm[i] -> ...`, swapping each position with its source fills it for good and moves
/// `old[i]` on, until it lands on the last position of the cycle, which wants exactly `old[i]`.
fn swaps(mut perm: Vec<u32>) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for i in 0..perm.len() as u32 {
        let mut j = i;
        // A visited position points at itself.
        while perm[j as usize] != i && perm[j as usize] != j {
            let next = perm[j as usize];
            out.push((j, next));
            perm[j as usize] = j;
            j = next;
        }
        perm[j as usize] = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random pairs (key, original position) with many equal keys, from a fixed LCG.
    fn pairs(n: usize, seed: u64, keys: u64) -> Vec<(u64, usize)> {
        let mut s = seed;
        (0..n)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 33) % keys, i)
            })
            .collect()
    }

    #[test]
    fn matches_std_stable_sort_with_ties() {
        for (n, keys) in [(0, 1), (1, 1), (2, 1), (5, 2), (17, 3), (100, 7), (1000, 10), (300, 1000)] {
            for seed in 0..5 {
                let mut ours = pairs(n, seed, keys);
                let mut std_sorted = ours.clone();
                sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
                std_sorted.sort_by_key(|a| a.0);
                assert_eq!(ours, std_sorted, "n={n} keys={keys} seed={seed}");
            }
        }
    }

    #[test]
    fn sort_u32_matches_std() {
        for (n, keys) in [(0, 1), (1, 1), (2, 5), (3, 2), (17, 3), (100, 1000), (1000, 10), (1001, 1 << 31)] {
            for seed in 0..5 {
                let mut ours: Vec<u32> = pairs(n, seed, keys).into_iter().map(|p| p.0 as u32).collect();
                let mut std_sorted = ours.clone();
                sort_u32(&mut ours);
                std_sorted.sort_unstable();
                assert_eq!(ours, std_sorted, "n={n} keys={keys} seed={seed}");
            }
        }
    }

    #[test]
    fn sorts_descending_by_key_and_reversed_input() {
        let mut v: Vec<i32> = (0..50).collect();
        sort_by(&mut v, |a, b| b.cmp(a));
        assert_eq!(v, (0..50).rev().collect::<Vec<_>>());
        let mut w = vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e')];
        sort_by_key(&mut w, |p| p.0);
        assert_eq!(w, [(0, 'd'), (1, 'b'), (1, 'e'), (3, 'a'), (3, 'c')]);
    }
}
