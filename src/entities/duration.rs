//! The built-in `duration` entity: `2 hours`, `30min`, `an hour and a half`, `3 días`,
//! `media hora`, `2 weeks and 3 days`. The value is an ISO 8601 duration: `PT2H`, `PT30M`,
//! `PT1.5H`, `P3D`, `PT0.5H`, `P17D` (weeks are written `P2W` alone and as 7 days when mixed,
//! because ISO 8601 does not combine weeks with other units).

use super::number::Num;
use super::text::{is_space_gap, Text};
use super::{Entity, Lang};

/// Units in ISO 8601 order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

/// A unit word (folded); `glued_only` for abbreviations read only right after digits (`2h`).
fn unit(w: &str, lang: Lang) -> Option<(Unit, bool)> {
    use Unit::*;
    let u = match (lang, w) {
        (Lang::En, "second" | "seconds" | "sec" | "secs") => (Second, false),
        (Lang::En, "minute" | "minutes" | "min" | "mins") => (Minute, false),
        (Lang::En, "hour" | "hours" | "hr" | "hrs") => (Hour, false),
        (Lang::En, "day" | "days") => (Day, false),
        (Lang::En, "week" | "weeks" | "wk" | "wks") => (Week, false),
        (Lang::En, "month" | "months") => (Month, false),
        (Lang::En, "year" | "years" | "yr" | "yrs") => (Year, false),
        (Lang::Es, "segundo" | "segundos" | "seg") => (Second, false),
        (Lang::Es, "minuto" | "minutos" | "min") => (Minute, false),
        (Lang::Es, "hora" | "horas" | "hr" | "hrs") => (Hour, false),
        (Lang::Es, "dia" | "dias") => (Day, false),
        (Lang::Es, "semana" | "semanas") => (Week, false),
        (Lang::Es, "mes" | "meses") => (Month, false),
        (Lang::Es, "año" | "años") => (Year, false),
        (Lang::Fr | Lang::De | Lang::Pt | Lang::Ar, _) if table_unit(w, lang).is_some() => return table_unit(w, lang).map(|(u, _)| (u, false)),
        (_, "s") => (Second, true),
        (_, "h") => (Hour, true),
        (_, "d") => (Day, true),
        (_, "w") => (Week, true),
        _ => return None,
    };
    Some(u)
}

/// A unit word of the [`super::words`] tables: (unit, the count it carries by itself: 2 for an
/// Arabic dual such as `يومين`, 1 for an Arabic singular such as `ساعه`, else 0).
fn table_unit(w: &str, lang: Lang) -> Option<(Unit, u32)> {
    use Unit::*;
    let (count, u) = super::words::unit(&[lang], w)?;
    let unit = match u {
        b's' => Second,
        b'm' => Minute,
        b'h' => Hour,
        b'd' => Day,
        b'w' => Week,
        b'M' => Month,
        _ => Year,
    };
    Some((unit, count))
}

/// One `quantity unit` part.
#[derive(Debug, Clone, Copy)]
struct Part {
    start: usize,
    end: usize,
    unit: Unit,
    amount: f64,
}

fn words_are(t: &Text<'_>, k: usize, expected: &[&[&str]]) -> bool {
    expected.iter().enumerate().all(|(i, options)| {
        t.words.get(k + i).is_some_and(|w| {
            options.contains(&w.folded.as_str()) && (i == 0 || is_space_gap(t.between(t.words[k + i - 1].end, w.start)))
        })
    })
}

/// Every duration in the text, as entities.
pub(crate) fn find(t: &Text<'_>, nums: &[Num], langs: &[Lang], out: &mut Vec<Entity>) {
    let mut parts: Vec<Part> = Vec::new();
    for (k, w) in t.words.iter().enumerate() {
        let Some((u, glued_only, lang)) = langs.iter().find_map(|&l| unit(&w.folded, l).map(|(u, g)| (u, g, l))) else { continue };
        let other = !matches!(lang, Lang::En | Lang::Es);
        // `5 business days`, `3 working days`: the adjective sits between number and unit.
        let adjective = k > 0 && !glued_only && matches!(t.words[k - 1].folded.as_str(), "business" | "working" | "calendar") && is_space_gap(t.between(t.words[k - 1].end, w.start));
        let unit_start = if adjective { t.words[k - 1].start } else { w.start };
        let gap_to = |end: usize| t.between(end, unit_start);
        // The quantity: a number just before (glued or one space), or an article.
        let quantity = nums.partition_point(|n| n.end <= unit_start).checked_sub(1).map(|p| &nums[p]).and_then(|n| {
            let gap = gap_to(n.end);
            let ok = if glued_only { gap.is_empty() && !n.words } else { gap.is_empty() && !n.words || is_space_gap(gap) };
            ok.then(|| (n.start, n.value.parse::<f64>().unwrap_or(0.0)))
        });
        let quantity = quantity.or_else(|| {
            if glued_only || k == 0 {
                return None;
            }
            let p = &t.words[k - 1];
            if !is_space_gap(gap_to(p.end)) {
                return None;
            }
            match p.folded.as_str() {
                "a" | "an" | "un" | "una" => {
                    // `half an hour`
                    if k >= 2 && t.words[k - 2].folded == "half" && is_space_gap(t.between(t.words[k - 2].end, p.start)) {
                        Some((t.words[k - 2].start, 0.5))
                    } else {
                        Some((p.start, 1.0))
                    }
                }
                "media" | "medio" => Some((p.start, 0.5)),
                "une" | "ein" | "eine" | "einen" | "einer" | "um" | "uma" if other => Some((p.start, 1.0)),
                _ => None,
            }
        });
        // Arabic: the dual counts two by itself (`يومين`); the singular one after a word that
        // asks for a length (`لمده ساعه`, for an hour).
        let quantity = quantity.or_else(|| {
            let (_, count) = table_unit(&w.folded, lang)?;
            let asks = k > 0 && matches!(t.words[k - 1].folded.as_str(), "مده" | "لمده" | "خلال" | "حوالي" | "تقريبا" | "بعد") && is_space_gap(gap_to(t.words[k - 1].end));
            (count == 2 || (count == 1 && asks)).then_some((w.start, f64::from(count)))
        });
        let Some((start, mut amount)) = quantity else { continue };
        if amount < 0.0 || glued_only && u == Unit::Hour && after_clock_word(t, start, langs) {
            continue;
        }
        let mut end = w.end;
        // `an hour and a half`, `dos horas y media`
        if words_are(t, k + 1, &[&["and"], &["a"], &["half"]]) && is_space_gap(t.between(w.end, t.words[k + 1].start)) {
            amount += 0.5;
            end = t.words[k + 3].end;
        } else if (words_are(t, k + 1, &[&["y"], &["media", "medio"]]) || (other && words_are(t, k + 1, &[&["et", "e"], &["demie", "demi", "meia", "meio"]])))
            && is_space_gap(t.between(w.end, t.words[k + 1].start))
        {
            amount += 0.5;
            end = t.words[k + 2].end;
        }
        parts.push(Part { start, end, unit: u, amount });
    }
    // Join parts separated by `,`, `and`, `y` or spaces: `2 hours and 30 minutes`.
    let mut i = 0;
    while i < parts.len() {
        let mut j = i;
        while j + 1 < parts.len() && parts[j + 1].unit > parts[j].unit && joins(t, parts[j].end, parts[j + 1].start) {
            j += 1;
        }
        let group = &parts[i..=j];
        out.push(t.entity("duration", iso(group), group[0].start, group[j - i].end));
        i = j + 1;
    }
}

/// True when the word before `start` (one space between) says a clock time follows: `à 17h`,
/// `um 9h`, `às 14h`, `at 5h` are times of day, which [`super::datetime`] reads, not
/// durations of 17, 9, 14 or 5 hours (`dans 2h`, `a 2h drive` still are).
fn after_clock_word(t: &Text<'_>, start: usize, langs: &[Lang]) -> bool {
    let Some(before) = t.words.iter().rev().find(|w| w.end <= start) else { return false };
    if !is_space_gap(t.between(before.end, start)) {
        return false;
    }
    langs.iter().any(|lang| {
        let cues: &[&str] = match lang {
            Lang::En => &["at", "around"],
            Lang::Es => &["a", "las", "la"],
            Lang::Fr => &["a", "vers", "des"],
            Lang::De => &["um", "gegen", "ab"],
            Lang::Pt => &["a", "as", "ate"],
            Lang::Ar => &["الساعه", "ساعه"],
        };
        cues.contains(&before.folded.as_str())
    })
}

fn joins(t: &Text<'_>, end: usize, start: usize) -> bool {
    let gap: String = crate::text::to_lowercase(&t.between(end, start).iter().collect::<String>());
    matches!(gap.trim(), "" | "," | "and" | ", and" | "y" | ", y" | "et" | "und" | "e" | "و") && !gap.is_empty()
}

fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// ISO 8601 duration of parts in increasing-unit order.
fn iso(parts: &[Part]) -> String {
    let only_weeks = parts.iter().all(|p| p.unit == Unit::Week);
    let mut date = String::new();
    let mut time = String::new();
    let mut days = 0.0;
    for p in parts {
        match p.unit {
            Unit::Year => date += &format!("{}Y", num(p.amount)),
            Unit::Month => date += &format!("{}M", num(p.amount)),
            Unit::Week if only_weeks => date += &format!("{}W", num(p.amount)),
            Unit::Week => days += 7.0 * p.amount,
            Unit::Day => days += p.amount,
            Unit::Hour => time += &format!("{}H", num(p.amount)),
            Unit::Minute => time += &format!("{}M", num(p.amount)),
            Unit::Second => time += &format!("{}S", num(p.amount)),
        }
    }
    if days > 0.0 {
        date += &format!("{}D", num(days));
    }
    if time.is_empty() {
        format!("P{date}")
    } else {
        format!("P{date}T{time}")
    }
}
