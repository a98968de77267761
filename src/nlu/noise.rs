//! Typo noise: the seeded character edits `sottovoce eval --noise typos` scores with, and the
//! training-time augmentation ([`crate::nlu::TrainOptions::typo_copies`]) that makes the
//! classifier robust to them.

use crate::text::SplitMix64;

/// An index in `0..n` (`n > 0`) by remainder: how the published noise figures drew theirs.
fn below(rng: &mut SplitMix64, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// Swaps two neighbours, drops or doubles one character (a third of the time each; a
/// one-character word is always doubled) in each space-separated word with probability `rate`
/// (in [0, 1]), drawing from `rng`. Same seed, same output; `rate` 0 returns `text` unchanged.
///
/// ```
/// use sottovoce::{nlu::add_typos, text::SplitMix64};
/// let a = add_typos("where is my order", 0.5, &mut SplitMix64(3));
/// assert_eq!(a, add_typos("where is my order", 0.5, &mut SplitMix64(3)));
/// assert_eq!(add_typos("where is my order", 0.0, &mut SplitMix64(3)), "where is my order");
/// ```
pub fn add_typos(text: &str, rate: f64, rng: &mut SplitMix64) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars: Vec<char> = Vec::new();
    for (k, word) in text.split(' ').enumerate() {
        if k > 0 {
            out.push(' ');
        }
        chars.clear();
        chars.extend(word.chars());
        if !chars.is_empty() && (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= rate {
            let i = below(rng, chars.len());
            match below(rng, 3) {
                0 if chars.len() >= 2 => {
                    let j = if i + 1 < chars.len() { i + 1 } else { i - 1 };
                    chars.swap(i, j);
                }
                1 if chars.len() >= 2 => {
                    chars.remove(i);
                }
                _ => chars.insert(i, chars[i]),
            }
        }
        out.extend(chars.iter());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_touch_about_rate_of_the_words() {
        let text = "please tell me where my parcel is right now because it is late";
        let mut rng = SplitMix64(9);
        let changed: usize = (0..200)
            .map(|_| {
                let noisy = add_typos(text, 0.25, &mut rng);
                noisy.split(' ').zip(text.split(' ')).filter(|(a, b)| a != b).count()
            })
            .sum();
        let share = changed as f64 / (200.0 * 13.0);
        // A swap of two equal letters leaves a word as it was, so slightly under 0.25.
        assert!((0.18..0.27).contains(&share), "{share}");
    }
}
