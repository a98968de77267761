//! The built-in `ordinal` entity: `3rd`, `21st`, `1º`, `2.ª`, `third`, `twenty-first`,
//! `tercera`, `décimo`. The value is the position as digits (`3`).
//!
//! `second` / `segundo` after an article or a number (`wait a second`, `un segundo`, `30
//! seconds`) is a duration, not an ordinal, and is skipped.

use super::text::{glues, is_space_gap, starts_token, Text};
use super::Lang;

/// An ordinal found in a message: char span and position (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ordinal {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) value: u64,
}

const EN_UNITS: [&str; 9] = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"];
const EN_TEENS: [&str; 10] = [
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
];
const EN_TENS: [&str; 8] = ["twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth"];
const EN_TENS_CARDINAL: [&str; 8] = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/// Spanish ordinal stems (masculine `-o`, feminine `-a`, plurals), 1–10, then 11–12.
const ES_STEMS: [&str; 10] = ["primer", "segund", "tercer", "cuart", "quint", "sext", "septim", "octav", "noven", "decim"];

fn es_word(w: &str) -> Option<u64> {
    match w {
        "primer" | "tercer" => return Some(if w == "primer" { 1 } else { 3 }),
        "setimo" | "setima" => return Some(7),
        "undecimo" | "undecima" | "decimoprimero" | "decimoprimera" => return Some(11),
        "duodecimo" | "duodecima" | "decimosegundo" | "decimosegunda" => return Some(12),
        _ => {}
    }
    let stem = w.strip_suffix("os").or_else(|| w.strip_suffix("as")).or_else(|| w.strip_suffix('o')).or_else(|| w.strip_suffix('a'))?;
    ES_STEMS.iter().position(|s| *s == stem).map(|p| p as u64 + 1)
}

fn en_word(w: &str) -> Option<u64> {
    let pos = |list: &[&str]| list.iter().position(|x| *x == w).map(|p| p as u64);
    pos(&EN_UNITS).map(|p| p + 1).or_else(|| pos(&EN_TEENS).map(|p| p + 10)).or_else(|| pos(&EN_TENS).map(|p| 20 + 10 * p))
}

/// The length in chars of an ordinal suffix at `j` (`1st`, `2nd`, `3rd`, `4th`, `1º`, `2ª`,
/// `1.º`, `1er`, `2do`, `3ro`), or `None`: digits with such a suffix are an ordinal, not a number.
///
/// With `french`, also `1re`, `2e`, `2ème`, `3eme`.
pub(crate) fn ordinal_suffix_at(c: &[char], j: usize, french: bool) -> Option<usize> {
    let mut k = j;
    if c.get(k) == Some(&'.') && matches!(c.get(k + 1), Some('º' | 'ª' | '°')) {
        k += 1;
    }
    let len = c[k.min(c.len())..].iter().take_while(|c| c.is_alphabetic() || matches!(c, 'º' | 'ª')).count();
    let suffix: String = c[k..k + len].iter().flat_map(|&c| crate::text::lowercase_char(c)).collect();
    let ok = matches!(suffix.as_str(), "st" | "nd" | "rd" | "th" | "º" | "ª" | "er" | "do" | "ro" | "to" | "vo" | "no" | "mo" | "a" | "o")
        || (french && matches!(suffix.as_str(), "e" | "eme" | "ème" | "re" | "ère" | "ere"));
    ok.then_some(k + len - j)
}

/// True for an English ordinal word (`second`, `twentieth`).
pub(crate) fn is_ordinal_word(folded: &str) -> bool {
    en_word(folded).is_some()
}

/// Every ordinal in the text, sorted by start.
pub(crate) fn find(t: &Text<'_>, langs: &[Lang]) -> Vec<Ordinal> {
    let mut out = Vec::new();
    let c = t.chars;
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < c.len() && c[i].is_ascii_digit() {
            i += 1;
        }
        if !starts_token(c, start) {
            continue;
        }
        if let Some(len) = ordinal_suffix_at(c, i, langs.contains(&Lang::Fr)) {
            let after = c.get(i + len);
            if after.is_none_or(|&x| !glues(x)) {
                let digits: String = c[start..i].iter().collect();
                if let Ok(value) = digits.parse::<u64>() {
                    if value > 0 {
                        out.push(Ordinal { start, end: i + len, value });
                    }
                }
            }
        }
    }
    let ws = &t.words;
    for (k, w) in ws.iter().enumerate() {
        let f = w.folded.as_str();
        let prev = k.checked_sub(1).map(|p| &ws[p]).filter(|p| is_space_gap(t.between(p.end, w.start)) || t.between(p.end, w.start) == ['-']);
        for &lang in langs {
            let value = match lang {
                Lang::En => en_word(f),
                Lang::Es => es_word(f),
                _ => super::words::ordinal(lang, f),
            };
            let Some(mut value) = value else { continue };
            let mut start = w.start;
            // `a second`, `30 seconds`, `un segundo`: time. `un cuarto`, `y cuarto`: a quarter.
            let counted = prev.is_some_and(|p| matches!(p.folded.as_str(), "a" | "one" | "un" | "uno" | "una" | "few" | "pocos" | "y" | "menos"))
                || (w.start >= 2 && c[w.start - 1] == ' ' && c[w.start - 2].is_ascii_digit());
            // Portuguese weekdays: `segunda-feira`, `na quarta`.
            let next = ws.get(k + 1).filter(|n| is_space_gap(t.between(w.end, n.start)) || t.between(w.end, n.start) == ['-']);
            let weekday = lang == Lang::Pt
                && f.ends_with('a')
                && (2..=6).contains(&value)
                && (next.is_some_and(|n| n.folded == "feira") || prev.is_some_and(|p| matches!(p.folded.as_str(), "na" | "nesta" | "proxima" | "ultima" | "essa" | "esta" | "ate" | "toda")));
            if weekday {
                continue;
            }
            let counted = counted || prev.is_some_and(|p| matches!(p.folded.as_str(), "um" | "une" | "ein" | "eine" | "einer" | "einen") && lang != Lang::En && lang != Lang::Es);
            if (value == 2 && (counted || f.ends_with('s'))) || (value == 4 && matches!(lang, Lang::Es | Lang::Pt) && counted) {
                continue;
            }
            // English compounds: twenty-first, thirty second.
            if lang == Lang::En && value < 10 {
                if let Some(p) = prev {
                    if let Some(tens) = EN_TENS_CARDINAL.iter().position(|x| *x == p.folded) {
                        value += 20 + 10 * tens as u64;
                        start = p.start;
                    }
                }
            }
            out.push(Ordinal { start, end: w.end, value });
            break;
        }
    }
    crate::sort::sort_by_key(&mut out, |o| (o.start, o.end));
    out
}
