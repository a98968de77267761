//! Card numbers are never stored: a second line of defence behind the widget's own redaction.
//!
//! The widget redacts card numbers and owner-listed patterns before the visitor agrees to send
//! anything. An older or modified client might not, so the server replaces every run of 13 to 19
//! digits (single spaces or dashes allowed between them) that passes the Luhn check with the
//! same label the widget uses, before anything is written.

use std::borrow::Cow;

/// What a card number becomes.
pub const LABEL: &str = "[redacted card number]";

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `text` with every Luhn-valid 13–19 digit card number replaced by [`LABEL`]; borrowed
/// unchanged when there is none.
pub fn card_numbers(text: &str) -> Cow<'_, str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::new();
    let mut copied = 0; // byte offset up to which `text` is already in `out`
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].1.is_ascii_digit() && (i == 0 || !chars[i - 1].1.is_alphanumeric());
        if !starts_number {
            i += 1;
            continue;
        }
        let mut digits = Vec::new();
        let mut j = i;
        let mut last_digit = i;
        while j < chars.len() && digits.len() <= 19 {
            let c = chars[j].1;
            if c.is_ascii_digit() {
                digits.push(c as u8 - b'0');
                last_digit = j;
                j += 1;
            } else if (c == ' ' || c == '-') && chars.get(j + 1).is_some_and(|(_, n)| n.is_ascii_digit()) {
                j += 1;
            } else {
                break;
            }
        }
        let ends_number = chars.get(last_digit + 1).is_none_or(|(_, c)| !c.is_alphanumeric());
        if (13..=19).contains(&digits.len()) && ends_number && luhn(&digits) {
            out.push_str(&text[copied..chars[i].0]);
            out.push_str(LABEL);
            copied = chars[last_digit].0 + 1;
        }
        i = last_digit + 1;
    }
    if copied == 0 {
        Cow::Borrowed(text)
    } else {
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::card_numbers;

    #[test]
    fn card_numbers_go_other_numbers_stay() {
        let cases = [
            ("charged twice on 4111 1111 1111 1111!", "charged twice on [redacted card number]!"),
            ("card 4111-1111-1111-1111 and 5555555555554444", "card [redacted card number] and [redacted card number]"),
            ("números: 378282246310005.", "números: [redacted card number]."),
            ("order CU-482913 arrived", "order CU-482913 arrived"),
            ("call +1 555 013 4288", "call +1 555 013 4288"),
            ("not Luhn: 4111 1111 1111 1112", "not Luhn: 4111 1111 1111 1112"),
            ("part of a code: X4111111111111111", "part of a code: X4111111111111111"),
            ("too long: 41111111111111111111111", "too long: 41111111111111111111111"),
        ];
        for (input, expected) in cases {
            assert_eq!(card_numbers(input), expected, "{input}");
        }
    }
}
