//! The built-in `number` entity: digits (`1,234.5`, `-3`, `1.234,5`, `2 million`, `٢٠`) and
//! number words in English and Spanish (`twenty-one`, `one hundred and five`, `treinta y dos`,
//! `dos mil veinte`), and in French, German, Portuguese and Arabic through the tables and
//! grammar of [`super::words`] (`quatre-vingt-dix`, `zweiundzwanzig`, `vinte e dois`,
//! `اثنان وعشرون`).
//!
//! Values are normalised to ASCII digits with a `.` decimal point, no thousands separators, no
//! leading or trailing zeros (`1.500,50` → `1500.5`), and a leading `-` when negative.

use super::ordinal::{is_ordinal_word, ordinal_suffix_at};
use super::text::{is_space_gap, starts_token, Text};
use super::Lang;

/// A number found in a message: its char span and normalised value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Num {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) value: String,
    /// Written in words (`veinte`) rather than digits.
    pub(crate) words: bool,
}

/// Every number in the text, sorted by start.
pub(crate) fn find(t: &Text<'_>, langs: &[Lang], decimal_comma: bool) -> Vec<Num> {
    let mut out = digits(t, decimal_comma, langs.contains(&Lang::Fr));
    for n in &mut out {
        scale_suffix(t, langs, n);
    }
    for &lang in langs {
        if matches!(lang, Lang::En | Lang::Es) {
            words(t, lang, &mut out);
        } else {
            table_words(t, lang, &mut out);
        }
    }
    crate::sort::sort_by_key(&mut out, |n| (n.start, n.end));
    out.dedup_by(|b, a| b.start < a.end);
    out
}

fn is_group_sep(c: char) -> bool {
    matches!(c, '.' | ',' | '\u{a0}' | '\u{202f}')
}

/// Letters that may follow digits directly and leave a number (units of time, weight, length,
/// volume, data, currency codes, `k` for thousands, `x` for times).
const UNIT_SUFFIXES: &[&str] = &[
    "am", "pm", "h", "hr", "hrs", "min", "mins", "s", "sec", "secs", "d", "w", "k", "x", "kg", "g", "lb", "lbs", "oz",
    "km", "m", "cm", "mm", "mi", "ft", "in", "l", "ml", "gb", "mb", "tb", "kb", "usd", "eur", "gbp", "mxn",
];

fn digits(t: &Text<'_>, decimal_comma: bool, french: bool) -> Vec<Num> {
    let c = t.chars;
    let n = c.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if !c[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let run_start = i;
        let mut j = i;
        while j < n && (c[j].is_ascii_digit() || (is_group_sep(c[j]) && j + 1 < n && c[j + 1].is_ascii_digit())) {
            j += 1;
        }
        i = j;
        if !starts_token(c, run_start) || ordinal_suffix_at(c, j, french).is_some() {
            continue;
        }
        // `2026-11-27`, `600-123-456`, `3/4`: dates, phones and fractions, not loose numbers.
        if j + 1 < n && matches!(c[j], '-' | '/' | ':') && c[j + 1].is_ascii_digit() {
            continue;
        }
        // Letters glued after the digits: a unit (`5pm`, `20kg`, `20k`) keeps the number, a
        // code (`3XL`, `4G`, `12abc`) does not.
        let suffix: String = c[j..].iter().take_while(|&&c| c.is_alphabetic() && !crate::text::is_cjk(c)).flat_map(|&c| crate::text::lowercase_char(c)).collect();
        if !suffix.is_empty() && !UNIT_SUFFIXES.contains(&suffix.as_str()) {
            continue;
        }
        let negative = run_start >= 1
            && matches!(c[run_start - 1], '-' | '−')
            && (run_start == 1 || c[run_start - 2].is_whitespace() || matches!(c[run_start - 2], '(' | '[' | ':' | '='));
        let run: String = c[run_start..j].iter().collect();
        for (s, e, value) in interpret(&run, decimal_comma) {
            let (mut start, end) = (run_start + s, run_start + e);
            let value = if negative && s == 0 && value != "0" {
                start -= 1;
                format!("-{value}")
            } else {
                value
            };
            let (value, end) = if suffix == "k" && e == run.chars().count() { (shift(&value, 3), end + 1) } else { (value, end) };
            out.push(Num { start, end, value, words: false });
        }
    }
    out
}

/// Reads a run of digits and separators; returns (start, end, value) in chars of the run.
/// Tries the locale's convention, then the other one (`1,5` from a visitor who writes decimal
/// commas in English), then a comma-separated list (`1,2,3`).
fn interpret(run: &str, decimal_comma: bool) -> Vec<(usize, usize, String)> {
    let len = run.chars().count();
    let (thou, dec) = if decimal_comma { ('.', ',') } else { (',', '.') };
    if let Some(v) = read(run, thou, dec).or_else(|| read(run, dec, thou)) {
        return vec![(0, len, v)];
    }
    let mut out = Vec::new();
    let mut pos = 0;
    for piece in run.split(',') {
        let plen = piece.chars().count();
        if let Some(v) = read(piece, '\u{0}', '.') {
            out.push((pos, pos + plen, v));
        }
        pos += plen + 1;
    }
    out
}

/// Reads `run` with thousands separator `thou` (narrow spaces always allowed) and decimal
/// separator `dec`, which may appear once, last.
fn read(run: &str, thou: char, dec: char) -> Option<String> {
    let (int, frac) = match run.rfind(dec) {
        Some(k) => (&run[..k], Some(&run[k + dec.len_utf8()..])),
        None => (run, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let groups: Vec<&str> = int.split([thou, '\u{a0}', '\u{202f}']).collect();
    if groups.iter().any(|g| g.is_empty() || !g.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    Some(normalise(&groups.concat(), frac.unwrap_or("")))
}

/// `0012`, `500` → `12.5`; strips leading zeros of the integer and trailing zeros of the fraction.
pub(crate) fn normalise(int: &str, frac: &str) -> String {
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

/// Multiplies a normalised value by 10^k exactly.
fn shift(value: &str, k: usize) -> String {
    let (sign, v) = value.strip_prefix('-').map_or(("", value), |v| ("-", v));
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let mut digits = format!("{int}{frac}");
    let point = int.len() + k;
    while digits.len() < point {
        digits.push('0');
    }
    format!("{sign}{}", normalise(&digits[..point], &digits[point..]))
}

/// `2 million`, `1,5 millones`, `3 mil`: a digit number followed by a scale word.
fn scale_suffix(t: &Text<'_>, langs: &[Lang], n: &mut Num) {
    let k = t.word_at_or_after(n.end);
    let Some(w) = t.words.get(k) else { return };
    if !is_space_gap(t.between(n.end, w.start)) {
        return;
    }
    for &lang in langs {
        let scale = match lookup(lang, &w.folded) {
            Some(Word::Scale(s)) => Some(s),
            _ => super::words::scale(lang, &w.folded),
        };
        if let Some(s) = scale {
            n.value = shift(&n.value, s.ilog10() as usize);
            n.end = w.end;
            return;
        }
    }
}

/// The role of a number word in the grammar below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    /// 0–9. `article` marks Spanish `un`/`una`, which alone are articles, not numbers.
    Unit(u64, bool),
    /// A complete two-digit value that takes no unit after it: 10–19, Spanish 21–29.
    Teen(u64),
    /// 20, 30, … 90: a unit may follow (`twenty-one`, `treinta y uno`).
    Tens(u64),
    /// English `hundred`, multiplying the unit before it.
    Hundred,
    /// Spanish `ciento`, `doscientos`…; `open` is false for `cien`, which takes nothing after it.
    Hundreds(u64, bool),
    /// thousand, million, billion / mil, millón.
    Scale(u64),
    /// English `and`, Spanish `y`.
    And,
    /// English `a` (`a hundred`, `a thousand`).
    A,
}

/// The longest number word of any language (`cuatrocientos`, `veinticuatro`: 13 bytes).
const LONGEST_NUMBER_WORD: usize = 13;

fn lookup(lang: Lang, w: &str) -> Option<Word> {
    use Word::*;
    // Static tables, not arrays built on every call: this runs for every word of every message.
    static UNITS_EN: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    static TEENS_EN: [&str; 10] = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
    static TENS_EN: [&str; 8] = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    static UNITS_ES: [&str; 10] = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"];
    static TEENS_ES: [&str; 10] = ["diez", "once", "doce", "trece", "catorce", "quince", "dieciseis", "diecisiete", "dieciocho", "diecinueve"];
    static TWENTIES_ES: [&str; 9] = ["veintiuno", "veintidos", "veintitres", "veinticuatro", "veinticinco", "veintiseis", "veintisiete", "veintiocho", "veintinueve"];
    static TENS_ES: [&str; 8] = ["veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"];
    static HUNDREDS_ES: [&str; 9] = ["ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos", "setecientos", "ochocientos", "novecientos"];
    if w.len() > LONGEST_NUMBER_WORD {
        return None;
    }
    let pos = |list: &[&str]| list.iter().position(|x| *x == w).map(|p| p as u64);
    match lang {
        Lang::Fr | Lang::De | Lang::Pt | Lang::Ar => None,
        Lang::En => {
            if let Some(p) = pos(&UNITS_EN) {
                return Some(Unit(p, false));
            }
            if let Some(p) = pos(&TEENS_EN) {
                return Some(Teen(10 + p));
            }
            if let Some(p) = pos(&TENS_EN) {
                return Some(Tens(20 + 10 * p));
            }
            match w {
                "hundred" => Some(Hundred),
                "thousand" => Some(Scale(1_000)),
                "million" => Some(Scale(1_000_000)),
                "billion" => Some(Scale(1_000_000_000)),
                "and" => Some(And),
                "a" => Some(A),
                _ => None,
            }
        }
        Lang::Es => {
            if let Some(p) = pos(&UNITS_ES) {
                return Some(Unit(p, false));
            }
            if let Some(p) = pos(&TEENS_ES) {
                return Some(Teen(10 + p));
            }
            if let Some(p) = pos(&TWENTIES_ES) {
                return Some(Teen(21 + p));
            }
            if let Some(p) = pos(&TENS_ES) {
                return Some(Tens(20 + 10 * p));
            }
            if let Some(p) = pos(&HUNDREDS_ES) {
                return Some(Hundreds(100 * (p + 1), true));
            }
            // Feminine hundreds: doscientas…
            if let Some(stem) = w.strip_suffix("as") {
                if let Some(p) = HUNDREDS_ES.iter().position(|x| x.strip_suffix("os") == Some(stem)) {
                    return Some(Hundreds(100 * (p as u64 + 1), true));
                }
            }
            match w {
                "un" | "una" => Some(Unit(1, true)),
                "veintiun" | "veintiuna" => Some(Teen(21)),
                "cien" => Some(Hundreds(100, false)),
                "mil" => Some(Scale(1_000)),
                "millon" | "millones" => Some(Scale(1_000_000)),
                "y" => Some(And),
                _ => None,
            }
        }
    }
}

/// Number words in `t` for one language, appended to `out`.
fn words(t: &Text<'_>, lang: Lang, out: &mut Vec<Num>) {
    let mut i = 0;
    while i < t.words.len() {
        match parse_words(t, lang, i) {
            Some((1, last)) if last == i && lang == Lang::En && t.words[i].folded == "one" && is_pronoun(t, i) => i += 1,
            Some((value, last)) => {
                out.push(Num { start: t.words[i].start, end: t.words[last].end, value: value.to_string(), words: true });
                i = last + 1;
            }
            None => i += 1,
        }
    }
}

/// Number words in `t` for a language of [`super::words`]'s tables, appended to `out`. Words of
/// one number are separated by spaces or a hyphen (`vingt-deux`, `quatre-vingt-dix`).
fn table_words(t: &Text<'_>, lang: Lang, out: &mut Vec<Num>) {
    let gap_ok = |k: usize| {
        let gap = t.between(t.words[k - 1].end, t.words[k].start);
        is_space_gap(gap) || gap == ['-']
    };
    let mut i = 0;
    while i < t.words.len() {
        match super::words::parse(&t.words, lang, i, gap_ok) {
            Some((value, last)) => {
                out.push(Num { start: t.words[i].start, end: t.words[last].end, value: value.to_string(), words: true });
                i = last + 1;
            }
            None => i += 1,
        }
    }
}

/// True when the word `one` at `i` stands for a thing (`this one`, `the second one`), not a count.
fn is_pronoun(t: &Text<'_>, i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).map(|p| &t.words[p]) else { return false };
    if !is_space_gap(t.between(prev.end, t.words[i].start)) {
        return false;
    }
    const DETERMINERS: &[&str] = &["the", "this", "that", "which", "each", "any", "every", "no", "another", "other", "last", "next", "same", "new", "old"];
    DETERMINERS.contains(&prev.folded.as_str()) || is_ordinal_word(&prev.folded)
}

/// Parses the longest number starting at word `i`: its value and the index of its last word.
fn parse_words(t: &Text<'_>, lang: Lang, i: usize) -> Option<(u64, usize)> {
    use Word::*;
    let ws = &t.words;
    let (mut total, mut group) = (0u64, 0u64);
    let (mut has_h, mut has_t, mut t_open, mut has_u, mut closed) = (false, false, false, false, false);
    let (mut last_scale, mut after_scale, mut pending_and, mut a_pending) = (u64::MAX, false, false, false);
    let mut last = None;
    let mut only_article = true;
    for k in i..ws.len() {
        if k > i {
            let gap = t.between(ws[k - 1].end, ws[k].start);
            if !(is_space_gap(gap) || (lang == Lang::En && gap == ['-'])) {
                break;
            }
        }
        let Some(w) = lookup(lang, &ws[k].folded) else { break };
        if a_pending && !matches!(w, Hundred | Scale(_)) {
            break;
        }
        match w {
            Unit(0, _) => {
                if k == i {
                    return Some((0, k));
                }
                break;
            }
            Unit(v, article) => {
                if closed || has_u {
                    break;
                }
                if has_t && !(t_open && (pending_and == (lang == Lang::Es))) {
                    break;
                }
                group += v;
                has_u = true;
                if !article {
                    only_article = false;
                }
            }
            Teen(v) | Tens(v) => {
                if closed || has_t || has_u || (pending_and && lang == Lang::Es) {
                    break;
                }
                group += v;
                has_t = true;
                t_open = matches!(w, Tens(_));
                has_u = matches!(w, Teen(_));
                only_article = false;
            }
            Hundred => {
                if pending_and || has_h || has_t || !(has_u || a_pending) {
                    break;
                }
                group = group.max(1) * 100;
                has_h = true;
                has_u = false;
                a_pending = false;
                only_article = false;
            }
            Hundreds(v, open) => {
                if group != 0 || has_h || pending_and {
                    break;
                }
                group = v;
                has_h = true;
                closed = !open;
                only_article = false;
            }
            Scale(s) => {
                if s >= last_scale || pending_and {
                    break;
                }
                let g = if group > 0 {
                    group
                } else if a_pending || (lang == Lang::Es && s == 1_000) {
                    1
                } else {
                    break;
                };
                total += g * s;
                last_scale = s;
                group = 0;
                (has_h, has_t, t_open, has_u, closed, a_pending) = (false, false, false, false, false, false);
                only_article = false;
                last = Some(k);
                after_scale = true;
                continue;
            }
            And => {
                let ok = match lang {
                    Lang::En => (has_h || after_scale) && !has_t && !has_u,
                    Lang::Es => has_t && t_open && !has_u,
                    _ => false,
                };
                if !ok || pending_and || k == i {
                    break;
                }
                pending_and = true;
                continue;
            }
            A => {
                if k != i {
                    break;
                }
                a_pending = true;
                continue;
            }
        }
        pending_and = false;
        after_scale = false;
        last = Some(k);
    }
    let last = last?;
    if only_article {
        return None;
    }
    Some((total + group, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, langs: &[Lang], comma: bool) -> Vec<String> {
        find(&Text::new(&crate::text::Utterance::analyze(text, "")), langs, comma).into_iter().map(|n| n.value).collect()
    }

    #[test]
    fn english_words() {
        let en = &[Lang::En];
        assert_eq!(values("twenty-one", en, false), ["21"]);
        assert_eq!(values("one hundred and five", en, false), ["105"]);
        assert_eq!(values("a thousand two hundred", en, false), ["1200"]);
        assert_eq!(values("two thousand and twenty six", en, false), ["2026"]);
        assert_eq!(values("one two three", en, false), ["1", "2", "3"]);
        assert_eq!(values("a cat and a dog", en, false), Vec::<String>::new());
        assert_eq!(values("nineteen ninety", en, false), ["19", "90"]);
    }

    #[test]
    fn spanish_words() {
        let es = &[Lang::Es];
        assert_eq!(values("treinta y dos", es, true), ["32"]);
        assert_eq!(values("dos mil veintiséis", es, true), ["2026"]);
        assert_eq!(values("mil quinientos", es, true), ["1500"]);
        assert_eq!(values("un millón", es, true), ["1000000"]);
        assert_eq!(values("quiero una camiseta", es, true), Vec::<String>::new());
        assert_eq!(values("ciento uno", es, true), ["101"]);
        assert_eq!(values("doscientas", es, true), ["200"]);
        assert_eq!(values("veinte y uno", es, true), ["21"]);
    }

    #[test]
    fn digits_and_scales() {
        let en = &[Lang::En];
        assert_eq!(values("2 million", en, false), ["2000000"]);
        assert_eq!(values("1.5 million", en, false), ["1500000"]);
        assert_eq!(values("-3 and 4", en, false), ["-3", "4"]);
        assert_eq!(values("1,2,3", en, false), ["1", "2", "3"]);
        assert_eq!(values("0.50", en, false), ["0.5"]);
        assert_eq!(values("3rd and 2nd", en, false), Vec::<String>::new());
        assert_eq!(values("1.2.3.4", en, false), Vec::<String>::new());
        assert_eq!(values("A12 x-3", en, false), Vec::<String>::new());
    }
}
