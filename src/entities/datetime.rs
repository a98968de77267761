//! The built-in `date` and `time` entities, resolved against a reference time passed in.
//!
//! - `date`: an expression naming a day: `today`, `tomorrow`, `next Friday`, `in 2 weeks`,
//!   `on March 3`, `3/4`, `2026-11-27`, `mañana`, `el próximo viernes`, `en 2 semanas`,
//!   `3 de marzo`. Value: ISO 8601 calendar date, `2026-11-27`.
//! - `time`: an expression naming a time of day or a moment: `at 5pm`, `17:30`, `a las 5`,
//!   `in 2 hours`, `tomorrow at 5pm`. Value: ISO 8601 local date and time, `2026-11-27T17:00`.
//!   An expression with both (`tomorrow at 5pm`) yields a `date` and a `time` over the same span.
//!
//! Resolution rules (the visitor's local time is the reference time plus
//! [`ExtractContext::utc_offset_min`](super::ExtractContext::utc_offset_min)):
//! - A day without a year (`March 3`, `3/4`) is the nearest one, past or future (the future one
//!   on a tie): in November, `11/20` is last Friday's order and `March 3` next March.
//! - A weekday alone or with `this` / `este` is the next one on or after today; with `next` /
//!   `próximo` / `que viene` the next one after today; with `last` / `pasado` the last one
//!   before today.
//! - A time without a day is the next time it is that time of day (today, or tomorrow if it has
//!   passed). An hour 1–7 without am/pm or a part of the day (`at 5`, `a las 5`) is afternoon:
//!   shops are rarely asked about 5 in the morning.
//! - A period is its first day: `next week` / `la semana que viene` is next Monday, `next month`
//!   the 1st, `this weekend` / `el fin de semana` its Saturday.
//! - `tonight at 8`, `esta tarde a las 9`: a part of the day in the date makes an uncertain hour pm.
//! - Numeric dates follow the locale: month first for `en` and `en-US`, day first for other
//!   English regions and for Spanish; an impossible reading (`25/12` in `en-US`) is swapped.
//!
//! French, German, Portuguese and Arabic use the same rules with their words (`demain à 17h`,
//! `übermorgen um 9`, `amanhã às 10h`, `بعد غد`, `الجمعة القادمة`; modifiers after the word as
//! in Spanish); Chinese and Japanese dates and times written with digits are read by a small
//! scanner of their own (`明天下午3点`, `明日の午後3時`).
//!
//! Spans include the words that carry meaning (`next`, `in`, `at`, `a las`) but not articles or
//! `on` / `el`.

use super::civil::{add_months, days_from_civil, days_in_month, iso_date, weekday, MS_PER_DAY};
use super::number::Num;
use super::ordinal::Ordinal;
use super::text::{glues, Text};
use super::words::{self, Table};
use super::{Entity, ExtractContext, Lang};

/// A token of the date grammar.
#[derive(Debug, Clone, PartialEq)]
enum Tk {
    /// A folded word.
    Word(String),
    /// An integer, with the count of digits (0 when written in words).
    Int(u64, usize),
    /// An ordinal (`3rd`, `tercero`).
    Ord(u64),
    /// A clock time: hour, minute, am (`Some(false)`) / pm (`Some(true)`), and whether it was
    /// written the 24-hour way (`17:00`, `05:30`).
    Clock(u32, u32, Option<bool>, bool),
    /// A numeric date `a/b[/y]` in the writer's order, or an ISO date (`iso`: y-m-d).
    NumDate(u32, u32, Option<i64>, bool),
}

#[derive(Debug, Clone)]
struct Tok {
    start: usize,
    end: usize,
    kind: Tk,
}

/// What an expression means, before it becomes entities.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expr {
    /// A day number.
    Date(i64),
    /// A time of day: hour 0–23, minute, and whether the hour is certain (am/pm, 24-hour clock
    /// or part of day given).
    Time(u32, u32, bool),
    /// A day and a time of day, both said (`tomorrow at 5pm`).
    Moment(i64, u32, u32),
    /// A moment counted from now (`in 2 hours`): a `time` only.
    After(i64, u32, u32),
}

const EN_MONTHS: [&str; 12] =
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const ES_MONTHS: [&str; 12] =
    ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"];
const EN_DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const ES_DAYS: [&str; 7] = ["lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"];

fn month(w: &str, langs: &[Lang]) -> Option<u32> {
    for &lang in langs {
        let (full, abbr): (&[&str], &[&str]) = match lang {
            Lang::En => (&EN_MONTHS, &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
            Lang::Es => (&ES_MONTHS, &["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]),
            _ => match words::calendar(&[lang], Table::Month, w) {
                Some(m) => return Some(m),
                None => continue,
            },
        };
        if let Some(p) = full.iter().position(|m| *m == w).or_else(|| abbr.iter().position(|m| *m == w)) {
            return Some(p as u32 + 1);
        }
        if matches!(w, "sept" | "setiembre") {
            return Some(9);
        }
    }
    None
}

fn day_of_week(w: &str, langs: &[Lang]) -> Option<u32> {
    for &lang in langs {
        let found = match lang {
            Lang::En => EN_DAYS.iter().position(|d| *d == w).or_else(|| {
                ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().position(|d| *d == w).or(match w {
                    "tues" => Some(1),
                    "thur" | "thurs" => Some(3),
                    _ => None,
                })
            }),
            Lang::Es => ES_DAYS.iter().position(|d| *d == w),
            _ => words::calendar(&[lang], Table::Day, w).map(|d| d as usize),
        };
        if let Some(p) = found {
            return Some(p as u32);
        }
    }
    None
}

/// Unit words of relative expressions, in minutes (days and more: negative = days, months).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Seconds(i64),
    Days(i64),
    Months(i64),
}

fn step(w: &str, langs: &[Lang]) -> Option<Step> {
    if let Some((_, s)) = table_step(w, langs) {
        return Some(s);
    }
    langs.iter().find_map(|lang| {
        Some(match (lang, w) {
            (Lang::En, "second" | "seconds" | "sec" | "secs") | (Lang::Es, "segundo" | "segundos") => Step::Seconds(1),
            (Lang::En, "minute" | "minutes" | "min" | "mins") | (Lang::Es, "minuto" | "minutos" | "min") => Step::Seconds(60),
            (Lang::En, "hour" | "hours" | "hr" | "hrs") | (Lang::Es, "hora" | "horas") => Step::Seconds(3_600),
            (Lang::En, "day" | "days") | (Lang::Es, "dia" | "dias") => Step::Days(1),
            (Lang::En, "week" | "weeks") | (Lang::Es, "semana" | "semanas") => Step::Days(7),
            (Lang::En, "month" | "months") | (Lang::Es, "mes" | "meses") => Step::Months(1),
            (Lang::En, "year" | "years") | (Lang::Es, "año" | "años") => Step::Months(12),
            _ => return None,
        })
    })
}

/// A unit word of the tables of [`words`]: (the count it carries by itself, 0 for none: the
/// Arabic dual `يومين` is two days, `ساعه` one hour; the step).
fn table_step(w: &str, langs: &[Lang]) -> Option<(i64, Step)> {
    let (count, unit) = words::unit(langs, w)?;
    Some((i64::from(count), match unit {
        b's' => Step::Seconds(1),
        b'm' => Step::Seconds(60),
        b'h' => Step::Seconds(3_600),
        b'd' => Step::Days(1),
        b'w' => Step::Days(7),
        b'M' => Step::Months(1),
        _ => Step::Months(12),
    }))
}

/// Reads `am`, `pm`, `a.m.`, `p. m.` at `j`: (is pm, chars read).
fn ampm_at(c: &[char], j: usize) -> Option<(bool, usize)> {
    let mut k = j;
    if c.get(k) == Some(&' ') {
        k += 1;
    }
    let pm = match c.get(k).map(|c| c.to_ascii_lowercase()) {
        Some('a') => false,
        Some('p') => true,
        _ => return None,
    };
    k += 1;
    if c.get(k) == Some(&'.') {
        k += 1;
        if c.get(k) == Some(&' ') {
            k += 1;
        }
    }
    if c.get(k).map(|c| c.to_ascii_lowercase()) != Some('m') {
        return None;
    }
    k += 1;
    if c.get(k) == Some(&'.') {
        k += 1;
    }
    if c.get(k).is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    Some((pm, k - j))
}

fn digits_at(c: &[char], j: usize) -> usize {
    c[j.min(c.len())..].iter().take_while(|c| c.is_ascii_digit()).count()
}

fn value(c: &[char], from: usize, len: usize) -> u32 {
    c[from..from + len].iter().fold(0, |v, d| v * 10 + d.to_digit(10).unwrap_or(0))
}

/// Clock times and numeric dates, found in the characters (the number extractor leaves them);
/// with `hclock`, the French and Portuguese `17h30` too.
fn scan_numeric(c: &[char], hclock: bool, out: &mut Vec<Tok>) {
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() || (i > 0 && (glues(c[i - 1]) || matches!(c[i - 1], '/' | '-' | ':' | '.'))) {
            i += 1;
            continue;
        }
        let a = digits_at(c, i);
        let j = i + a;
        let glued_after = |k: usize| c.get(k).is_some_and(|&x| glues(x)) || (matches!(c.get(k), Some('/' | '-' | ':' | '.' | ',')) && c.get(k + 1).is_some_and(|x| x.is_ascii_digit()));
        // ISO date 2026-11-27.
        if a == 4 && c.get(j) == Some(&'-') && digits_at(c, j + 1) == 2 && c.get(j + 3) == Some(&'-') && digits_at(c, j + 4) == 2 && !glued_after(j + 6) {
            let (y, m, d) = (value(c, i, 4), value(c, j + 1, 2), value(c, j + 4, 2));
            out.push(Tok { start: i, end: j + 6, kind: Tk::NumDate(d, m, Some(i64::from(y)), true) });
            i = j + 6;
            continue;
        }
        // d/m[/y], d-m-y, d.m.y
        if (1..=2).contains(&a) && matches!(c.get(j), Some('/' | '-' | '.')) {
            let sep = c[j];
            let b = digits_at(c, j + 1);
            if (1..=2).contains(&b) {
                let k = j + 1 + b;
                let (year, end) = if c.get(k) == Some(&sep) && matches!(digits_at(c, k + 1), 2 | 4) {
                    let n = digits_at(c, k + 1);
                    let y = i64::from(value(c, k + 1, n));
                    (Some(if n == 2 { 2000 + y } else { y }), k + 1 + n)
                } else {
                    (None, k)
                };
                if (year.is_some() || sep == '/') && !glued_after(end) {
                    out.push(Tok { start: i, end, kind: Tk::NumDate(value(c, i, a), value(c, j + 1, b), year, false) });
                    i = end;
                    continue;
                }
            }
        }
        // French and Portuguese `17h`, `17h30`, `9 h`: a 24-hour clock.
        if hclock && (1..=2).contains(&a) {
            let k = if c.get(j) == Some(&' ') { j + 1 } else { j };
            if matches!(c.get(k), Some('h' | 'H')) {
                let mm = digits_at(c, k + 1);
                let end = if mm == 2 { k + 3 } else { k + 1 };
                let (h, m) = (value(c, i, a), if mm == 2 { value(c, k + 1, 2) } else { 0 });
                if h < 24 && m < 60 && (mm == 0 || mm == 2) && !c.get(end).is_some_and(|&x| glues(x)) {
                    out.push(Tok { start: i, end, kind: Tk::Clock(h, m, None, true) });
                    i = end;
                    continue;
                }
            }
        }
        // h:mm [am|pm], h am|pm
        if (1..=2).contains(&a) {
            let h = value(c, i, a);
            let (m, k) = if c.get(j) == Some(&':') && digits_at(c, j + 1) == 2 { (Some(value(c, j + 1, 2)), j + 3) } else { (None, j) };
            let ampm = ampm_at(c, k);
            let end = k + ampm.map_or(0, |(_, n)| n);
            let ok = match (m, ampm) {
                (_, Some(_)) => (1..=12).contains(&h) && m.is_none_or(|m| m < 60),
                (Some(m), None) => h < 24 && m < 60 && !glued_after(end),
                (None, None) => false,
            };
            if ok {
                let h24 = a == 2 && c[i] == '0' || h > 12;
                out.push(Tok { start: i, end, kind: Tk::Clock(h, m.unwrap_or(0), ampm.map(|(pm, _)| pm), h24) });
                i = end;
                continue;
            }
        }
        i = j;
    }
}

/// Day-of-month and optional year: the nearest such day to `today` when no year.
fn nearest_day(today: i64, y: Option<i64>, m: u32, d: u32) -> Option<i64> {
    let (ty, _, _) = super::civil::civil_from_days(today);
    let check = |y: i64| (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m);
    match y {
        Some(y) => check(y).then(|| days_from_civil(y, m, d)),
        // The nearest such day, the future one on a tie: `11/20` said on 11/21 is yesterday
        // (an order placed), `March 3` said in November is next March.
        None => (ty - 1..=ty + 1).filter(|&y| check(y)).map(|y| days_from_civil(y, m, d)).min_by_key(|&x| ((x - today).abs(), x < today)),
    }
}

/// Chinese and Japanese words of the [`cjk`] scanner: relative days (offset from today) and
/// parts of the day (pm or not), longest first where one starts another.
const CJK_DAYS: [(&str, i64); 12] =
    [("明後日", 2), ("今天", 0), ("明天", 1), ("后天", 2), ("後天", 2), ("昨天", -1), ("前天", -2), ("今日", 0), ("明日", 1), ("昨日", -1), ("今晚", 0), ("今夜", 0)];
const CJK_PARTS: [(&str, bool); 9] =
    [("上午", false), ("早上", false), ("早晨", false), ("午前", false), ("下午", true), ("晚上", true), ("傍晚", true), ("午後", true), ("夜", true)];

/// Dates and times in Chinese and Japanese, written without spaces and with digits:
/// `明天下午3点`, `明日の午後3時半`, `3点20分`, `12月25日`, `12月25号`. Pushes what it finds as
/// [`Expr`] spans of chars: a relative day or month-day, then a part of the day, then an hour
/// (`点`, `點`, `時`, `时`) with minutes (`20分`) or a half (`半`), `の` allowed between them.
fn cjk(c: &[char], today: i64, out: &mut Vec<(usize, usize, Expr)>) {
    let at = |i: usize, w: &str| w.chars().enumerate().all(|(k, x)| c.get(i + k) == Some(&x));
    let number = |i: usize| {
        let n = digits_at(c, i);
        (1..=2).contains(&n).then(|| (value(c, i, n), i + n))
    };
    let mut i = 0;
    while i < c.len() {
        let start = i;
        let mut k = i;
        let mut day = None;
        if let Some((w, n)) = CJK_DAYS.iter().find(|(w, _)| at(k, w)) {
            day = Some(today + n);
            k += w.chars().count();
        } else if let Some((m, j)) = number(k).filter(|(_, j)| c.get(*j) == Some(&'月')) {
            if let Some((d, e)) = number(j + 1).filter(|(_, e)| matches!(c.get(*e), Some('日' | '号' | '號'))) {
                day = nearest_day(today, None, m, d);
                k = e + 1;
            }
        }
        if day.is_some() && c.get(k) == Some(&'の') {
            k += 1;
        }
        let mut pm = None;
        if let Some((w, p)) = CJK_PARTS.iter().find(|(w, _)| at(k, w)) {
            pm = Some(*p);
            k += w.chars().count();
        }
        let mut time = None;
        if let Some((h, j)) = number(k).filter(|(h, j)| *h <= 24 && matches!(c.get(*j), Some('点' | '點' | '時' | '时'))) {
            k = j + 1;
            let mut m = 0;
            if c.get(k) == Some(&'半') {
                m = 30;
                k += 1;
            } else if let Some((mm, e)) = number(k).filter(|(mm, e)| *mm < 60 && c.get(*e) == Some(&'分')) {
                m = mm;
                k = e + 1;
            }
            let h = match (pm, h) {
                (Some(true), h) if h < 12 => h + 12,
                (Some(false), 12) => 0,
                // An hour 1–7 without a part of the day is afternoon, as in the other languages.
                (None, 1..=7) => h + 12,
                (_, h) => h % 24,
            };
            time = Some((h, m));
        }
        match (day, time) {
            (Some(d), Some((h, m))) => out.push((start, k, Expr::Moment(d, h, m))),
            (Some(d), None) => out.push((start, k, Expr::Date(d))),
            (None, Some((h, m))) => out.push((start, k, Expr::Time(h, m, true))),
            (None, None) => {
                i += 1;
                continue;
            }
        }
        i = k;
    }
}

struct Grammar<'t, 'a> {
    t: &'t Text<'a>,
    toks: Vec<Tok>,
    langs: &'t [Lang],
    today: i64,
    minute: u32,
    month_first: bool,
    /// A language of the [`words`] tables is among `langs`.
    other: bool,
}

impl Grammar<'_, '_> {
    fn word(&self, i: usize) -> Option<&str> {
        match self.toks.get(i).map(|t| &t.kind) {
            Some(Tk::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn is(&self, i: usize, words: &[&str]) -> bool {
        self.word(i).is_some_and(|w| words.contains(&w))
    }

    /// True when tokens `i` and `i + 1` are separated by spaces only (or `,` when allowed).
    fn adj(&self, i: usize, comma: bool) -> bool {
        let (Some(a), Some(b)) = (self.toks.get(i), self.toks.get(i + 1)) else { return false };
        let gap = self.t.between(a.end, b.start);
        let commas = gap.iter().filter(|c| **c == ',').count();
        !gap.is_empty() && gap.iter().all(|c| c.is_whitespace() || *c == ',') && (commas == 0 || (comma && commas == 1))
    }

    /// A chain of adjacent words starting at `i`.
    fn words(&self, i: usize, words: &[&[&str]]) -> bool {
        words.iter().enumerate().all(|(k, options)| self.is(i + k, options) && (k == 0 || self.adj(i + k - 1, false)))
    }

    fn has(&self, lang: Lang) -> bool {
        self.langs.contains(&lang)
    }

    /// The chars between tokens `i` and `i + 1`.
    fn gap(&self, i: usize) -> &[char] {
        match (self.toks.get(i), self.toks.get(i + 1)) {
            (Some(a), Some(b)) => self.t.between(a.end, b.start),
            _ => &[],
        }
    }

    /// A relative day in a language of the tables at `i`: (tokens used, the date).
    fn relative_day(&self, i: usize) -> Option<(usize, Expr)> {
        let day = |n: i64| Expr::Date(self.today + n);
        let joined = |k: usize| self.adj(k, false) || matches!(self.gap(k), ['-'] | ['\''] | ['’']);
        // Two words: après-demain, avant-hier, aujourd'hui, depois de amanhã, بعد غد, أول أمس.
        for (first, second, n) in [("apres", "demain", 2), ("avant", "hier", -2), ("aujourd", "hui", 0), ("بعد", "غد", 2), ("بعد", "الغد", 2), ("بعد", "بكره", 2), ("اول", "امس", -2), ("اول", "امبارح", -2)] {
            if self.is(i, &[first]) && self.is(i + 1, &[second]) && joined(i) {
                return Some((2, day(n)));
            }
        }
        if self.words(i, &[&["depois"], &["de"], &["amanha"]]) {
            return Some((3, day(2)));
        }
        if self.words(i, &[&["ce", "cette"], &["soir", "nuit"]]) || self.words(i, &[&["esta"], &["noite"]]) {
            return Some((2, day(0)));
        }
        let w = self.word(i)?;
        // `Guten Morgen`, `am Morgen`: the morning, not tomorrow.
        if w == "morgen" && i > 0 && self.is(i - 1, &["guten", "am", "jeden", "den", "diesen", "heute"]) && self.adj(i - 1, false) {
            return None;
        }
        let n = self.langs.iter().find_map(|&l| words::int(l, Table::Relative, w))?;
        // `heute Abend`, `morgen früh`: the day and its part.
        let part = self.adj(i, false) && self.is(i + 1, &["abend", "nachmittag", "fruh", "vormittag", "mittag", "soir", "matin"]);
        Some((1 + usize::from(part), day(n)))
    }

    /// A modifier after a weekday or period at `k` (`vendredi prochain`, `semana que vem`,
    /// `الجمعه القادمه`): (+1 next / -1 last, tokens used).
    fn modifier_after(&self, k: usize) -> Option<(i64, usize)> {
        if self.is(k, NEXT_AFTER) {
            Some((1, 1))
        } else if self.words(k, &[&["que"], &["vem"]]) {
            Some((1, 2))
        } else if self.is(k, LAST_AFTER) {
            Some((-1, 1))
        } else {
            None
        }
    }

    /// A part of the day at `k` in a language of the tables: (is pm, tokens used).
    fn part_of_day(&self, k: usize) -> Option<(bool, usize)> {
        if self.words(k, &[&["du", "de", "da"], &["matin", "manha"]]) {
            Some((false, 2))
        } else if self.words(k, &[&["du", "da"], &["soir", "tarde", "noite"]]) {
            Some((true, 2))
        } else if self.is(k, &["morgens", "fruh", "vormittags", "صباحا", "صباح", "الصبح", "الصباح"]) {
            Some((false, 1))
        } else if self.is(k, &["nachmittags", "abends", "مساء", "مساءا", "المساء", "العصر", "بالليل", "ليلا"]) {
            Some((true, 1))
        } else {
            None
        }
    }

    /// A small count: an integer token or an article (`a week`, `una semana`).
    fn count(&self, i: usize) -> Option<i64> {
        match self.toks.get(i).map(|t| &t.kind) {
            Some(Tk::Int(v, _)) if *v <= 1000 => Some(*v as i64),
            Some(Tk::Word(w)) if matches!(w.as_str(), "a" | "an" | "un" | "una") => Some(1),
            Some(Tk::Word(w)) if self.other && matches!(w.as_str(), "une" | "ein" | "eine" | "einem" | "einer" | "einen" | "um" | "uma") => Some(1),
            _ => None,
        }
    }

    /// Day-of-month and optional year: the nearest such day when no year.
    fn day(&self, y: Option<i64>, m: u32, d: u32) -> Option<i64> {
        nearest_day(self.today, y, m, d)
    }

    /// The moment `minutes` from the reference time.
    fn after_minutes(&self, minutes: i64) -> Expr {
        let total = self.today * 1440 + i64::from(self.minute) + minutes;
        Expr::After(total.div_euclid(1440), (total.rem_euclid(1440) / 60) as u32, total.rem_euclid(60) as u32)
    }

    /// `am`, `pm`, `a.m.`, `p. m.` as words right after token `k`: (is pm, tokens used).
    fn ampm_words(&self, k: usize) -> Option<(bool, usize)> {
        if !self.adj(k, false) {
            return None;
        }
        if self.is(k + 1, &["am", "pm"]) {
            return Some((self.is(k + 1, &["pm"]), 1));
        }
        let (a, m) = (self.toks.get(k + 1)?, self.toks.get(k + 2)?);
        let dotted = matches!(self.t.between(a.end, m.start), ['.'] | ['.', ' ']);
        (self.is(k + 1, &["a", "p"]) && self.is(k + 2, &["m"]) && dotted).then(|| (self.is(k + 1, &["p"]), 2))
    }

    /// `o'clock` right after token `k`.
    fn oclock(&self, k: usize) -> bool {
        self.is(k + 1, &["o"]) && self.is(k + 2, &["clock"]) && self.adj(k, false)
    }

    /// A year token after `i` (`2027`, `dos mil veintisiete`).
    fn year(&self, i: usize) -> Option<i64> {
        match self.toks.get(i).map(|t| &t.kind) {
            Some(Tk::Int(v, digits)) if (1900..=2200).contains(v) && (*digits == 4 || *digits == 0) => Some(*v as i64),
            _ => None,
        }
    }

    fn day_number(&self, i: usize) -> Option<u32> {
        match self.toks.get(i).map(|t| &t.kind) {
            Some(Tk::Int(v, digits)) if (1..=31).contains(v) && *digits <= 2 => Some(*v as u32),
            Some(Tk::Ord(v)) if (1..=31).contains(v) => Some(*v as u32),
            _ => None,
        }
    }

    /// Every date expression starting at token `i`: (tokens used, expression).
    fn date_at(&self, i: usize) -> Option<(usize, Expr)> {
        let en = self.has(Lang::En);
        let es = self.has(Lang::Es);
        let today = self.today;
        let d = |n: i64| Some(Expr::Date(today + n));
        // Relative days.
        if en {
            if self.words(i, &[&["day"], &["after"], &["tomorrow"]]) {
                return Some((3, Expr::Date(today + 2)));
            }
            if self.words(i, &[&["day"], &["before"], &["yesterday"]]) {
                return Some((3, Expr::Date(today - 2)));
            }
            let r = match self.word(i) {
                Some("today" | "tonight") => d(0),
                Some("tomorrow" | "tmrw" | "tomorow") => d(1),
                Some("yesterday") => d(-1),
                _ => None,
            };
            if let Some(r) = r {
                return Some((1, r));
            }
        }
        if es {
            if self.words(i, &[&["pasado"], &["mañana", "manana"]]) {
                return Some((2, Expr::Date(today + 2)));
            }
            if self.words(i, &[&["esta"], &["noche"]]) {
                return Some((2, Expr::Date(today)));
            }
            let morning = i > 0 && self.is(i - 1, &["la", "esta", "cada", "las"]) && self.adj(i - 1, false);
            let r = match self.word(i) {
                Some("hoy") => d(0),
                Some("mañana" | "manana") if !morning => d(1),
                Some("ayer") => d(-1),
                Some("anteayer" | "antier") => d(-2),
                _ => None,
            };
            if let Some(r) = r {
                return Some((1, r));
            }
        }
        if self.other {
            if let Some(r) = self.relative_day(i) {
                return Some(r);
            }
        }
        // now / right now / ahora / ahora mismo: the reference time itself.
        if self.is(i, &["now", "ahora"]) || (self.other && self.is(i, NOW)) {
            let mismo = self.words(i + 1, &[&["mismo"]]) && self.adj(i, false);
            return Some((1 + usize::from(mismo), self.after_minutes(0)));
        }
        if self.words(i, &[&["right"], &["now"]]) {
            return Some((2, self.after_minutes(0)));
        }
        // Weekdays with modifiers.
        let mut k = i;
        let mut mode = 0i8; // 0 on or after today, 1 after today, -1 before today
        if (self.is(k, &["next", "proximo", "proxima", "siguiente"]) || (self.other && self.is(k, NEXT_BEFORE))) && self.adj(k, false) {
            mode = 1;
            k += 1;
        } else if (self.is(k, &["this", "coming", "este", "esta"]) || (self.other && self.is(k, THIS_BEFORE))) && self.adj(k, false) {
            k += 1;
        } else if (self.is(k, &["last", "past"]) || (self.other && self.is(k, LAST_BEFORE))) && self.adj(k, false) {
            mode = -1;
            k += 1;
        }
        // next week / la semana que viene: its Monday; next month / el mes que viene: its first day;
        // this weekend / el fin de semana: its Saturday (yesterday on a Sunday).
        let period = |k: usize, offset: i64| -> Option<Expr> {
            let (ty, tm, _) = super::civil::civil_from_days(today);
            if self.is(k, &["week", "semana"]) || (self.other && self.is(k, WEEK)) {
                Some(Expr::Date(today - weekday(today) as i64 + 7 * offset))
            } else if self.is(k, &["month", "mes"]) || (self.other && self.is(k, MONTH)) {
                Some(Expr::Date(add_months(days_from_civil(ty, tm, 1), offset)))
            } else if self.is(k, &["year", "año"]) || (self.other && self.is(k, YEAR)) {
                Some(Expr::Date(days_from_civil(ty + offset, 1, 1)))
            } else {
                None
            }
        };
        if k > i {
            if let Some(e) = period(k, i64::from(mode)) {
                return Some((k + 1 - i, e));
            }
        }
        if es && self.adj(i, false) {
            let suffix = if self.words(i + 1, &[&["proxima", "proximo", "siguiente"]]) {
                Some((1, 2))
            } else if self.words(i + 1, &[&["que"], &["viene"]]) {
                Some((1, 3))
            } else if self.words(i + 1, &[&["pasado", "pasada"]]) {
                Some((-1, 2))
            } else {
                None
            };
            if let Some((offset, used)) = suffix {
                if let Some(e) = period(i, offset) {
                    return Some((used, e));
                }
            }
        }
        if self.other && self.adj(i, false) {
            if let Some((offset, used)) = self.modifier_after(i + 1) {
                if let Some(e) = period(i, offset) {
                    return Some((used + 1, e));
                }
            }
        }
        let weekend = if self.is(k, &["weekend"]) || (self.other && self.is(k, &["wochenende", "الويكند"])) {
            Some(1)
        } else if self.words(k, &[&["fin"], &["de"], &["semana"]]) || (self.other && self.words(k, &[&["fim"], &["de"], &["semana"]])) {
            Some(3)
        } else if self.other && (self.words(k, &[&["نهايه"], &["الاسبوع"]]) || (self.is(k, &["week"]) && self.is(k + 1, &["end"]) && self.gap(k) == ['-'])) {
            Some(2)
        } else {
            None
        };
        if let Some(n) = weekend.filter(|_| mode >= 0 && (k > i || i == 0 || self.is(i - 1, &["the", "el", "this", "este"]))) {
            let wd = weekday(today) as i64;
            let saturday = match (mode, wd) {
                (1, 5) => today + 7,
                (1, 6) => today + 6,
                (_, 6) => today - 1,
                _ => today + (5 - wd),
            };
            return Some((k + n - i, Expr::Date(saturday)));
        }
        if let Some(dow) = self.word(k).and_then(|w| day_of_week(w, self.langs)) {
            let mut used = k + 1 - i;
            if self.has(Lang::Pt) && dow < 5 {
                // segunda-feira; segunda alone is a weekday only after a word that asks for
                // one (`na segunda`, `próxima segunda`), else it is "second".
                if self.is(k + 1, &["feira"]) && (self.adj(k, false) || self.gap(k) == ['-']) {
                    used += 1;
                } else if k == i && !(i > 0 && self.is(i - 1, &["na", "nesta", "ate", "toda", "essa", "esta", "de"])) {
                    return None;
                }
            }
            if self.other && mode == 0 {
                if let Some((m, n)) = self.adj(i + used - 1, false).then(|| self.modifier_after(i + used)).flatten() {
                    mode = m as i8;
                    used += n;
                }
            }
            if es && mode == 0 {
                if self.words(k + 1, &[&["proximo", "siguiente"]]) && self.adj(k, false) {
                    mode = 1;
                    used += 1;
                } else if self.words(k + 1, &[&["que"], &["viene"]]) && self.adj(k, false) {
                    mode = 1;
                    used += 2;
                } else if self.words(k + 1, &[&["pasado"]]) && self.adj(k, false) {
                    mode = -1;
                    used += 1;
                }
            }
            let wd = weekday(today) as i64;
            let ahead = (dow as i64 - wd).rem_euclid(7);
            let day = match mode {
                0 => today + ahead,
                1 => today + if ahead == 0 { 7 } else { ahead },
                _ => today - if ahead == 0 { 7 } else { 7 - ahead },
            };
            return Some((used, Expr::Date(day)));
        }
        // in 2 weeks / en 2 semanas / dentro de 2 semanas / 2 weeks ago / hace 3 días
        let (lead, sign) = if (self.is(i, &["in", "en"]) || (self.other && self.is(i, IN))) && self.adj(i, false) {
            (1, 1)
        } else if self.other && self.is(i, AGO) && self.adj(i, false) {
            (1, -1)
        } else if self.other && self.words(i, &[&["il"], &["y"], &["a"]]) && self.adj(i + 2, false) {
            (3, -1)
        } else if (self.words(i, &[&["dentro"], &["de"]]) || (self.other && self.words(i, &[&["daqui"], &["a"]]))) && self.adj(i + 1, false) {
            (2, 1)
        } else if self.is(i, &["hace"]) && self.adj(i, false) {
            (1, -1)
        } else {
            (0, 1)
        };
        // Arabic: the dual and the singular count by themselves (`بعد يومين`, in two days).
        if self.other && lead > 0 {
            if let Some((n, s)) = self.word(i + lead).and_then(|w| table_step(w, self.langs)).filter(|(n, _)| *n > 0) {
                let n = n * sign;
                return Some((lead + 1, match s {
                    Step::Days(k) => Expr::Date(today + n * k),
                    Step::Months(k) => Expr::Date(add_months(today, n * k)),
                    Step::Seconds(k) => self.after_minutes((n * k).div_euclid(60)),
                }));
            }
        }
        // `dans 2h`, `il y a 1h30`, `em 2h`: French and Portuguese hours read as a clock time
        // (`à 17h`); after a lead word they are a wait.
        if lead > 0 {
            if let Some(Tok { start, end, kind: Tk::Clock(h, m, None, true) }) = self.toks.get(i + lead) {
                if self.t.chars[*start..*end].iter().any(|c| matches!(c, 'h' | 'H')) {
                    return Some((lead + 1, self.after_minutes(sign * i64::from(h * 60 + m))));
                }
            }
        }
        if let Some(n) = self.count(i + lead) {
            let unit = self.word(i + lead + 1);
            // `dans 2h`, `in 2h`: after a lead word, a unit glued to the count, `h` included
            // (alone, `2h` reads as a clock time: `à 17h`).
            let glued = lead > 0 && self.toks.get(i + lead).zip(self.toks.get(i + lead + 1)).is_some_and(|(a, b)| a.end == b.start);
            let s = if self.adj(i + lead, false) {
                unit.and_then(|w| step(w, self.langs))
            } else if glued {
                unit.and_then(|w| if w == "h" { Some(Step::Seconds(3_600)) } else { step(w, self.langs) })
            } else {
                None
            };
            if let Some(s) = s {
                let mut used = lead + 2;
                let mut sign = sign;
                if lead == 0 {
                    if self.words(i + 2, &[&["ago"]]) && self.adj(i + 1, false) {
                        sign = -1;
                        used += 1;
                    } else if self.words(i + 2, &[&["from"], &["now"]]) && self.adj(i + 1, false) {
                        used += 2;
                    } else {
                        used = 0;
                    }
                }
                if used > 0 {
                    let n = n * sign;
                    return Some((used, match s {
                        Step::Days(k) => Expr::Date(today + n * k),
                        Step::Months(k) => Expr::Date(add_months(today, n * k)),
                        Step::Seconds(k) => self.after_minutes((n * k).div_euclid(60)),
                    }));
                }
            }
        }
        // Month and day: March 3[rd][, 2027] / 3[rd] [of] March [2027] / 3 de marzo [de 2027].
        if let Some(m) = self.word(i).and_then(|w| month(w, self.langs)) {
            if let Some(dd) = self.adj(i, false).then(|| self.day_number(i + 1)).flatten() {
                let (y, used) = match self.adj(i + 1, true).then(|| self.year(i + 2)).flatten() {
                    Some(y) => (Some(y), 3),
                    None => (None, 2),
                };
                return self.day(y, m, dd).map(|x| (used, Expr::Date(x)));
            }
        }
        if let Some(dd) = self.day_number(i) {
            let mut k = i + 1;
            if self.is(k, &["of", "de"]) && self.adj(i, false) {
                k += 1;
            }
            // German `3. März`.
            let dot = k == i + 1 && self.has(Lang::De) && matches!(self.gap(i), ['.', ' '] | ['.']);
            if let Some(m) = (self.adj(k - 1, false) || dot).then(|| self.word(k).and_then(|w| month(w, self.langs))).flatten() {
                let mut used = k + 1 - i;
                let mut y = None;
                if self.is(k + 1, &["de", "del"]) && self.adj(k, false) && self.adj(k + 1, false) {
                    if let Some(yy) = self.year(k + 2) {
                        y = Some(yy);
                        used += 2;
                    }
                } else if let Some(yy) = self.adj(k, true).then(|| self.year(k + 1)).flatten() {
                    y = Some(yy);
                    used += 1;
                }
                return self.day(y, m, dd).map(|x| (used, Expr::Date(x)));
            }
        }
        // on the 3rd / el día 3
        if i > 0 && ((self.is(i - 1, &["on"]) && self.is(i, &["the"])) || (self.is(i - 1, &["el"]) && self.is(i, &["dia"]))) && self.adj(i, false) {
            if let Some(dd) = self.day_number(i + 1) {
                let (y, m, _) = super::civil::civil_from_days(today);
                let this = (dd <= days_in_month(y, m)).then(|| days_from_civil(y, m, dd)).filter(|&x| x >= today);
                let next = add_months(days_from_civil(y, m, 1), 1);
                let (ny, nm, _) = super::civil::civil_from_days(next);
                let day = this.or_else(|| (dd <= days_in_month(ny, nm)).then(|| days_from_civil(ny, nm, dd)));
                return day.map(|x| (2, Expr::Date(x)));
            }
        }
        // Numeric dates.
        if let Some(Tk::NumDate(a, b, y, iso)) = self.toks.get(i).map(|t| t.kind.clone()) {
            let x = if iso {
                self.day(y, b, a)
            } else {
                let (m, dd) = if self.month_first { (a, b) } else { (b, a) };
                self.day(y, m, dd).or_else(|| self.day(y, dd, m))
            };
            return x.map(|x| (1, Expr::Date(x)));
        }
        None
    }

    /// True when the bare number after `at` / `a las` at `k` is followed by a word that makes
    /// it a count (`at 3 items`, `at 20 dollars`) rather than an hour (`at 3`, `at 3 tomorrow`,
    /// `a las 5 de la tarde`).
    fn not_an_hour(&self, k: usize) -> bool {
        let next = self.toks.get(k).and_then(|t| self.t.chars.get(t.end));
        if next.is_some_and(|c| matches!(c, '%' | '€' | '$' | '£')) {
            return true;
        }
        if !self.adj(k, false) || self.word(k + 1).is_none() {
            return false;
        }
        const GOES_ON: &[&str] = &["o", "am", "pm", "in", "at", "on", "de", "y", "menos", "en", "el", "del", "this", "next", "este", "para", "or", "and"];
        !(self.is(k + 1, GOES_ON) || self.date_at(k + 1).is_some() || (self.other && (self.is(k + 1, HOURS) || self.part_of_day(k + 1).is_some())))
    }

    /// A time-of-day expression starting at token `i`.
    fn time_at(&self, i: usize) -> Option<(usize, Expr)> {
        let mut k = i;
        let mut lead = false;
        if self.is(k, &["at", "around", "by"]) && self.adj(k, false) {
            k += 1;
            lead = true;
        } else if self.is(k, &["a", "para", "sobre", "hacia", "desde", "hasta"]) && self.is(k + 1, &["las", "la"]) && self.adj(k, false) && self.adj(k + 1, false) {
            k += 2;
            lead = true;
        } else if self.is(k, &["al", "a"]) && self.is(k + 1, &["mediodia", "medianoche"]) && self.adj(k, false) {
            k += 1;
        } else if self.other && self.is(k, AT) && self.adj(k, false) {
            k += 1;
            lead = true;
        }
        // half past five, quarter past 3, quarter to six
        let mut past: Option<i32> = None;
        if self.has(Lang::En) && self.is(k, &["half", "quarter"]) && self.is(k + 1, &["past", "to"]) && self.adj(k, false) && self.adj(k + 1, false) {
            past = Some(match (self.is(k, &["half"]), self.is(k + 1, &["past"])) {
                (true, true) => 30,
                (false, true) => 15,
                (false, false) => -15,
                (true, false) => return None,
            });
            k += 2;
            lead = true;
        }
        let (mut h, mut m, mut certain, mut pm) = match self.toks.get(k).map(|t| &t.kind) {
            Some(Tk::Clock(h, m, ampm, h24)) => {
                let h = match ampm {
                    Some(true) if *h < 12 => h + 12,
                    Some(false) if *h == 12 => 0,
                    _ => *h,
                };
                (h, *m, ampm.is_some() || *h24, None)
            }
            Some(Tk::Int(v, _)) if lead && *v <= 23 && !self.not_an_hour(k) => (*v as u32, 0, *v > 12 || *v == 0, None),
            Some(Tk::Int(v, _)) if *v <= 23 && (self.oclock(k) || (*v <= 12 && self.ampm_words(k).is_some())) => (*v as u32, 0, *v > 12, None),
            Some(Tk::Word(w)) if lead && w == "una" => (1, 0, false, None),
            Some(Tk::Word(w)) if matches!(w.as_str(), "noon" | "midday" | "mediodia") => (12, 0, true, None),
            Some(Tk::Word(w)) if matches!(w.as_str(), "midnight" | "medianoche") => (0, 0, true, None),
            Some(Tk::Word(w)) if self.other && matches!(w.as_str(), "midi" | "mittag" | "الظهر") => (12, 0, true, None),
            Some(Tk::Word(w)) if self.other && matches!(w.as_str(), "minuit" | "mitternacht") => (0, 0, true, None),
            _ => return None,
        };
        match past {
            Some(_) if h == 0 || h > 12 || m != 0 => return None,
            Some(-15) => (h, m) = (h - 1, 45),
            Some(minutes) => m = minutes as u32,
            None => {}
        }
        let mut end = k;
        // o'clock, y media, y cuarto, menos cuarto, en punto
        if self.oclock(end) {
            end += 2;
        } else if self.is(end + 1, &["y"]) && self.adj(end, false) && self.adj(end + 1, false) {
            if self.is(end + 2, &["media"]) {
                m = 30;
                end += 2;
            } else if self.is(end + 2, &["cuarto"]) {
                m = 15;
                end += 2;
            }
        } else if self.words(end + 1, &[&["menos"], &["cuarto"]]) && self.adj(end, false) {
            m = 45;
            h = (h + 23) % 24;
            end += 2;
        } else if self.words(end + 1, &[&["en"], &["punto"]]) && self.adj(end, false) {
            end += 2;
        } else if self.other && self.is(end + 1, HOURS) && self.adj(end, false) {
            // `9 Uhr`, `9 heures`, `10 horas`, `5 h`: an hour for sure; `9 Uhr 30`.
            end += 1;
            if let Some(Tk::Int(mm, _)) = self.toks.get(end + 1).map(|t| &t.kind) {
                if *mm < 60 && self.adj(end, false) && !self.not_an_hour(end + 1) {
                    m = *mm as u32;
                    end += 1;
                }
            }
            if h > 12 {
                certain = true;
            }
        }
        // Part of the day.
        if self.adj(end, false) {
            let part = if self.words(end + 1, &[&["in"], &["the"], &["morning"]]) || self.words(end + 1, &[&["de"], &["la"], &["mañana", "manana"]]) {
                Some((false, 3))
            } else if self.words(end + 1, &[&["in"], &["the"], &["afternoon", "evening"]]) || self.words(end + 1, &[&["de"], &["la"], &["tarde", "noche"]]) {
                Some((true, 3))
            } else if self.words(end + 1, &[&["at"], &["night"]]) {
                Some((true, 2))
            } else if let Some((pm, n)) = self.ampm_words(end) {
                Some((pm, n))
            } else if self.other {
                self.part_of_day(end + 1)
            } else {
                None
            };
            if let Some((p, n)) = part {
                pm = Some(p);
                end += n;
            }
        }
        if let Some(p) = pm {
            if !certain || h <= 12 {
                h = match (p, h) {
                    (true, h) if h < 12 => h + 12,
                    (false, 12) => 0,
                    (_, h) => h,
                };
            }
            certain = true;
        }
        if !certain && (1..=7).contains(&h) {
            h += 12;
            certain = true;
        }
        Some((end + 1 - i, Expr::Time(h, m, certain)))
    }

    fn parse(&self) -> Vec<(usize, usize, Expr)> {
        let mut found: Vec<(usize, usize, Expr)> = Vec::new();
        let mut i = 0;
        while i < self.toks.len() {
            let date = self.date_at(i);
            let time = self.time_at(i);
            let best = match (date, time) {
                (Some(d), Some(t)) => Some(if t.0 > d.0 { t } else { d }),
                (d, t) => d.or(t),
            };
            match best {
                Some((n, e)) => {
                    found.push((i, i + n, e));
                    i += n;
                }
                None => i += 1,
            }
        }
        // Join a date and a time next to each other (`tomorrow at 5pm`, `at 5pm on Friday`).
        let mut out: Vec<(usize, usize, Expr)> = Vec::new();
        for f in found {
            if let Some(last) = out.last_mut() {
                let (a, b) = (last.1, f.0);
                let filler = (a..b).all(|k| self.is(k, &["on", "el"]));
                let joined = filler && (a.saturating_sub(1)..b).all(|k| self.adj(k, true));
                // `tonight at 8`, `esta tarde a las 9`: the date says which half of the day.
                let evening = |from: usize, to: usize| {
                    (from..to).any(|k| self.is(k, &["tonight", "evening", "afternoon", "noche", "tarde"]) || (self.other && self.is(k, EVENING)))
                };
                let merged = match (last.2, f.2) {
                    (Expr::Date(d), Expr::Time(h, m, certain)) if joined => {
                        Some(Expr::Moment(d, if !certain && h < 12 && evening(last.0, last.1) { h + 12 } else { h }, m))
                    }
                    (Expr::Time(h, m, certain), Expr::Date(d)) if joined => {
                        Some(Expr::Moment(d, if !certain && h < 12 && evening(f.0, f.1) { h + 12 } else { h }, m))
                    }
                    _ => None,
                };
                if let Some(e) = merged {
                    *last = (last.0, f.1, e);
                    continue;
                }
            }
            out.push(f);
        }
        out
    }
}

/// Words of the languages of the [`words`] tables (folded), for the grammar.
const NOW: &[&str] = &["maintenant", "jetzt", "agora", "الان", "حالا"];
const NEXT_BEFORE: &[&str] = &["prochain", "prochaine", "nachsten", "nachste", "nachster", "naechsten", "kommenden", "kommende", "proxima", "proximo"];
const THIS_BEFORE: &[&str] = &["ce", "cette", "diesen", "diese", "dieses", "diesem", "esta", "este", "nesta", "neste", "essa", "esse", "هذا", "هذه", "هاد"];
const LAST_BEFORE: &[&str] = &["letzten", "letzte", "letzter", "vergangenen", "vergangene", "ultima", "ultimo"];
const NEXT_AFTER: &[&str] = &["prochain", "prochaine", "proxima", "proximo", "القادم", "القادمه", "الجاي", "الجايه", "المقبل", "المقبله"];
const LAST_AFTER: &[&str] = &["dernier", "derniere", "passe", "passee", "passado", "passada", "الماضي", "الماضيه", "اللي"];
const WEEK: &[&str] = &["semaine", "woche", "الاسبوع", "اسبوع"];
const MONTH: &[&str] = &["mois", "monat", "الشهر"];
const YEAR: &[&str] = &["annee", "jahr", "ano", "السنه", "العام"];
const IN: &[&str] = &["dans", "in", "em", "بعد", "خلال"];
const AGO: &[&str] = &["vor", "ha", "faz", "قبل"];
const AT: &[&str] = &["a", "vers", "des", "um", "gegen", "ab", "as", "ate", "الساعه", "ساعه"];
const HOURS: &[&str] = &["h", "heure", "heures", "uhr", "hora", "horas"];
const EVENING: &[&str] = &["soir", "abend", "noite", "الليله", "مساء"];

fn hm(h: u32, m: u32) -> String {
    format!("{h:02}:{m:02}")
}

/// Pushes `date` and `time` entities. Needs a reference time; without one nothing is found.
pub(crate) fn find(t: &Text<'_>, nums: &[Num], ordinals: &[Ordinal], langs: &[Lang], ctx: &ExtractContext<'_>, out: &mut Vec<Entity>) {
    let Some(now) = ctx.now_ms else { return };
    let local = now as i64 + i64::from(ctx.utc_offset_min) * 60_000;
    let today = local.div_euclid(MS_PER_DAY);
    let minute = (local.rem_euclid(MS_PER_DAY) / 60_000) as u32;

    // Candidates in priority order (clock times and numeric dates, ordinals, numbers, words);
    // one sweep in start order keeps those that do not overlap a kept one. A higher-priority
    // candidate never starts inside a lower-priority one, so ties at the same start decide.
    let mut candidates: Vec<(u8, Tok)> = Vec::new();
    let mut numeric = Vec::new();
    scan_numeric(t.chars, langs.iter().any(|l| matches!(l, Lang::Fr | Lang::Pt)), &mut numeric);
    candidates.extend(numeric.into_iter().map(|k| (0, k)));
    candidates.extend(ordinals.iter().map(|o| (1, Tok { start: o.start, end: o.end, kind: Tk::Ord(o.value) })));
    for n in nums {
        if let Ok(v) = n.value.parse::<u64>() {
            let digits = if n.words { 0 } else { t.chars[n.start..n.end].iter().filter(|c| c.is_ascii_digit()).count() };
            candidates.push((2, Tok { start: n.start, end: n.end, kind: Tk::Int(v, digits) }));
        }
    }
    candidates.extend(t.words.iter().map(|w| (3, Tok { start: w.start, end: w.end, kind: Tk::Word(w.folded.clone()) })));
    crate::sort::sort_by_key(&mut candidates, |(priority, k)| (k.start, *priority));
    let mut toks: Vec<Tok> = Vec::with_capacity(candidates.len());
    let mut reach = 0;
    for (_, k) in candidates {
        if k.start >= reach {
            reach = k.end;
            toks.push(k);
        }
    }

    let locale = ctx.locale.to_ascii_lowercase().replace('_', "-");
    let month_first = matches!(locale.as_str(), "en" | "en-us" | "en-ph" | "en-ca" | "") ;
    let other = langs.iter().any(|l| !matches!(l, Lang::En | Lang::Es));
    let g = Grammar { t, toks, langs, today, minute, month_first, other };
    let mut spans: Vec<(usize, usize, Expr)> = Vec::new();
    for (a, b, e) in g.parse() {
        let (start, mut end) = (g.toks[a].start, g.toks[b - 1].end);
        // The closing dot of `a.m.` / `p.m.` read as words.
        if b >= 2 && g.is(b - 1, &["m"]) && g.is(b - 2, &["a", "p"]) && t.chars.get(end) == Some(&'.') {
            end += 1;
        }
        spans.push((start, end, e));
    }
    if t.chars.iter().any(|&c| crate::text::is_cjk(c)) {
        let mut found = Vec::new();
        cjk(t.chars, today, &mut found);
        spans.retain(|s| !found.iter().any(|f| f.0 < s.1 && s.0 < f.1));
        spans.extend(found);
    }
    for (start, end, e) in spans {
        match e {
            Expr::Date(d) => out.push(t.entity("date", iso_date(d), start, end)),
            Expr::Moment(d, h, m) => {
                out.push(t.entity("date", iso_date(d), start, end));
                out.push(t.entity("time", format!("{}T{}", iso_date(d), hm(h, m)), start, end));
            }
            Expr::After(d, h, m) => out.push(t.entity("time", format!("{}T{}", iso_date(d), hm(h, m)), start, end)),
            Expr::Time(h, m, _) => {
                let d = if h * 60 + m > minute { today } else { today + 1 };
                out.push(t.entity("time", format!("{}T{}", iso_date(d), hm(h, m)), start, end));
            }
        }
    }
}
