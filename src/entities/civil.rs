//! Civil (proleptic Gregorian) calendar arithmetic on day numbers, with no clock and no crate.
//!
//! Days are counted from 1970-01-01 (day 0), negative before it. The conversions are Howard
//! Hinnant's `days_from_civil` / `civil_from_days` algorithms
//! (<https://howardhinnant.github.io/date_algorithms.html>), exact for every `i64` year range
//! used here; they count 400-year eras of 146 097 days with years starting in March, so the leap
//! day is the last day of the shifted year.

/// Milliseconds in a day.
pub const MS_PER_DAY: i64 = 86_400_000;

/// Day number (days since 1970-01-01) of a civil date. `month` is 1–12, `day` 1–31; out-of-range
/// days roll over (`2026-02-30` is `2026-03-02`), which callers avoid with [`days_in_month`].
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month 1–12, day 1–31)` of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day of the week of a day number: 0 = Monday … 6 = Sunday (ISO 8601 order, minus one).
pub fn weekday(days: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    (days + 3).rem_euclid(7) as u32
}

/// True for Gregorian leap years.
pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in a month (1–12) of a year.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The date `months` months after (or before, when negative) a date, the day clamped to the
/// target month's length (`2026-01-31` + 1 month = `2026-02-28`), as a day number.
pub fn add_months(days: i64, months: i64) -> i64 {
    let (y, m, d) = civil_from_days(days);
    let index = y * 12 + i64::from(m) - 1 + months;
    let (ny, nm) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
    days_from_civil(ny, nm, d.min(days_in_month(ny, nm)))
}

/// `YYYY-MM-DD` of a day number (ISO 8601 calendar date).
pub fn iso_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(iso_date(days_from_civil(2026, 11, 21)), "2026-11-21");
        assert_eq!(weekday(days_from_civil(2026, 11, 21)), 5); // a Saturday
        assert_eq!(iso_date(add_months(days_from_civil(2024, 1, 31), 1)), "2024-02-29");
        assert_eq!(iso_date(add_months(days_from_civil(2026, 12, 15), 2)), "2027-02-15");
    }

    #[test]
    fn round_trip_over_centuries() {
        let mut expected = days_from_civil(1600, 1, 1);
        for y in 1600..2500 {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    let n = days_from_civil(y, m, d);
                    assert_eq!(n, expected, "{y}-{m}-{d}");
                    assert_eq!(civil_from_days(n), (y, m, d));
                    expected += 1;
                }
            }
        }
    }
}
