//! The built-in `phone` entity: `+34 600 123 456`, `(555) 123-4567`, `600-123-456`,
//! `600123456`. The value is the digits with a leading `+` when a country code was given
//! (`+34600123456`, `5551234567`).
//!
//! To stay clear of quantities, prices, dates and order numbers, a phone has 7 to 15 digits and
//! either starts with `+`, or is written in groups (spaces, `-`, parentheses; dots only after a
//! `+` or parentheses) with a group of at least three digits and not shaped like a date, or is
//! a single run of 9 to 15 digits.

use super::text::{glues, Text};
use super::Entity;

/// Pushes every phone number not overlapping an entity already in `out` (e-mails, URLs).
pub(crate) fn find(t: &Text<'_>, out: &mut Vec<Entity>) {
    let c = t.chars;
    let mut found = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let starts = (c[i] == '+' || c[i] == '(' || c[i].is_ascii_digit())
            && c.get(i + 1).is_some_and(|x| x.is_ascii_digit() || c[i].is_ascii_digit())
            && (i == 0 || !(glues(c[i - 1]) || matches!(c[i - 1], '-' | '.' | '/' | '_' | '+' | ',' | ':' | '$' | '€' | '£')));
        if !starts {
            i += 1;
            continue;
        }
        let plus = c[i] == '+';
        let paren = c[i] == '(';
        let mut j = if plus { i + 1 } else { i };
        let mut groups: Vec<usize> = Vec::new();
        let mut seps = Vec::new();
        let mut end = j;
        let mut run = 0;
        while j < c.len() {
            let x = c[j];
            if x.is_ascii_digit() {
                run += 1;
                j += 1;
                end = j;
                continue;
            }
            if run > 0 {
                groups.push(run);
                run = 0;
            }
            // A separator counts only when a digit follows within two chars (`) 5`).
            let next_digit = c.get(j + 1).is_some_and(char::is_ascii_digit) || (c.get(j + 1).is_some_and(|y| matches!(y, ' ' | '(' | '-')) && c.get(j + 2).is_some_and(char::is_ascii_digit));
            if matches!(x, ' ' | '-' | '.' | '(' | ')') && next_digit {
                seps.push(x);
                j += 1;
            } else if x == ')' && groups.len() == 1 {
                j += 1;
            } else {
                break;
            }
        }
        if run > 0 {
            groups.push(run);
        }
        let digits: usize = groups.iter().sum();
        let after_ok = c.get(end).is_none_or(|&x| !glues(x))
            && !(matches!(c.get(end), Some('/' | ':' | ',' | '.')) && c.get(end + 1).is_some_and(char::is_ascii_digit));
        let dotted = seps.contains(&'.');
        let date_like = matches!(groups.as_slice(), [4, 2, 2] | [2, 2, 4] | [1 | 2, 1 | 2, 2 | 4]);
        let grouped = !seps.is_empty() && groups.iter().any(|&g| g >= 3) && !date_like && (!dotted || plus || paren) && groups.len() <= 6;
        let ok = (7..=15).contains(&digits) && after_ok && (plus || grouped || (seps.is_empty() && !paren && digits >= 9));
        if ok {
            let value: String = (if plus { "+" } else { "" }).chars().chain(c[i..end].iter().copied().filter(char::is_ascii_digit)).collect();
            found.push(t.entity("phone", value, i, end));
            i = end;
        } else {
            i = end.max(i + 1);
        }
    }
    found.retain(|p| !out.iter().any(|e| p.start < e.end && e.start < p.end));
    out.extend(found);
}
