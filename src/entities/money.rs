//! The built-in `money` entity: an amount with its currency (`$20`, `US$ 5`, `15 €`, `20 euros`,
//! `veinte dólares`, `USD 1,200`, `50 cents`). The value is the amount with two decimals and
//! the ISO 4217 code: `20.00 USD`.
//!
//! A bare `$` is US dollars except where the locale's region writes pesos with it (`es-MX` →
//! MXN, `es-AR` → ARS, `es-CO` → COP, `es-CL` → CLP); `peso(s)` follows the same rule with MXN
//! as the default. `R$` and `reais` are Brazilian reais; Arabic currency words follow the
//! region ([`arabic_currency`]); `円` is the yen, `元` and `块` the yuan, `¥` the yen except in
//! China. Words for pounds are not read as money: in a clothing shop "3 pounds" is
//! more often a weight.

use super::number::Num;
use super::text::{glues, Text};
use super::{Entity, Lang};

/// The local peso of a region, for `$` and `pesos`.
fn peso(region: &str) -> Option<&'static str> {
    match region {
        "MX" => Some("MXN"),
        "AR" => Some("ARS"),
        "CO" => Some("COP"),
        "CL" => Some("CLP"),
        _ => None,
    }
}

/// The currency of an Arabic word by region: `ريال` (riyal), `درهم` (dirham), `دينار` (dinar),
/// `جنيه` (pound), each the region's own or, elsewhere, the most used (SAR, AED, KWD, EGP).
fn arabic_currency(w: &str, region: &str) -> Option<&'static str> {
    let stem = w.strip_prefix("ال").unwrap_or(w);
    Some(match stem {
        "ريال" | "ريالات" => match region {
            "QA" => "QAR",
            "OM" => "OMR",
            "YE" => "YER",
            _ => "SAR",
        },
        "درهم" | "دراهم" => if region == "MA" { "MAD" } else { "AED" },
        "دينار" | "دنانير" => match region {
            "JO" => "JOD",
            "BH" => "BHD",
            "IQ" => "IQD",
            "LY" => "LYD",
            "TN" => "TND",
            "DZ" => "DZD",
            _ => "KWD",
        },
        "جنيه" | "جنيهات" => if region == "SD" { "SDG" } else { "EGP" },
        "دولار" | "دولارات" => "USD",
        "يورو" => "EUR",
        _ => return None,
    })
}

/// Currency named by a word (folded) and the factor its amounts are multiplied by (cents).
/// `real` is the Brazilian real only in Portuguese (in English it is "real leather").
fn word_currency(w: &str, region: &str, pt: bool) -> Option<(&'static str, u32)> {
    if let Some(code) = arabic_currency(w, region) {
        return Some((code, 0));
    }
    Some(match w {
        "reais" | "brl" => ("BRL", 0),
        "real" if pt => ("BRL", 0),
        "chf" => ("CHF", 0),
        "usd" | "dollar" | "dollars" | "buck" | "bucks" | "dolar" | "dolares" => ("USD", 0),
        "eur" | "euro" | "euros" => ("EUR", 0),
        "gbp" => ("GBP", 0),
        "mxn" => ("MXN", 0),
        "cad" => ("CAD", 0),
        "aud" => ("AUD", 0),
        "peso" | "pesos" => (peso(region).unwrap_or("MXN"), 0),
        "cent" | "cents" => ("USD", 2),
        "centimo" | "centimos" => ("EUR", 2),
        "centavo" | "centavos" => (peso(region).unwrap_or("MXN"), 2),
        _ => return None,
    })
}

/// Currency of a symbol with the letters glued before it (`US$`, `C$`).
fn symbol_currency(symbol: char, prefix: &str, region: &str) -> Option<&'static str> {
    match (symbol, prefix.to_ascii_uppercase().as_str()) {
        ('$', "") => Some(peso(region).unwrap_or("USD")),
        ('$', "US" | "U") => Some("USD"),
        ('$', "MX") => Some("MXN"),
        ('$', "C" | "CA") => Some("CAD"),
        ('$', "A" | "AU") => Some("AUD"),
        ('$', "R") => Some("BRL"),
        ('€', "") => Some("EUR"),
        // Yen, or yuan in China; 円 is the yen, 元 and 块 the yuan.
        ('¥' | '￥', "") => Some(if region == "CN" { "CNY" } else { "JPY" }),
        ('円', "") => Some("JPY"),
        ('元' | '块', "") => Some("CNY"),
        ('£', "") => Some("GBP"),
        _ => None,
    }
}

/// `1234.5` → `1234.50`; more than two decimals are rounded half up. `shift` divides by 10^shift
/// first (cents).
pub(crate) fn two_decimals(value: &str, shift: u32) -> String {
    let (sign, v) = value.strip_prefix('-').map_or(("", value), |v| ("-", v));
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let mut digits: Vec<u8> = format!("{int}{frac}").bytes().map(|b| b - b'0').collect();
    // Position of the decimal point in `digits` after dividing by 10^shift.
    let mut point = int.len() as i64 - i64::from(shift);
    while point < 1 {
        digits.insert(0, 0);
        point += 1;
    }
    let point = point as usize;
    while digits.len() < point + 3 {
        digits.push(0);
    }
    let round_up = digits[point + 2] >= 5;
    digits.truncate(point + 2);
    if round_up {
        let mut k = digits.len();
        loop {
            if k == 0 {
                digits.insert(0, 1);
                break;
            }
            k -= 1;
            if digits[k] == 9 {
                digits[k] = 0;
            } else {
                digits[k] += 1;
                break;
            }
        }
    }
    let split = digits.len() - 2;
    let s = |d: &[u8]| d.iter().map(|d| char::from(b'0' + d)).collect::<String>();
    let int = s(&digits[..split]);
    let int = int.trim_start_matches('0');
    format!("{sign}{}.{}", if int.is_empty() { "0" } else { int }, s(&digits[split..]))
}

/// Pushes a `money` entity for every number with a currency right before or after it.
pub(crate) fn find(t: &Text<'_>, nums: &[Num], region: &str, langs: &[Lang], out: &mut Vec<Entity>) {
    let pt = langs.contains(&Lang::Pt);
    let c = t.chars;
    for n in nums {
        // Before: a symbol (`$20`, `US$ 20`, `€ 15`) or a code (`USD 20`).
        let mut q = n.start;
        if q > 0 && c[q - 1] == ' ' {
            q -= 1;
        }
        let mut before = None;
        if q > 0 && matches!(c[q - 1], '$' | '€' | '£' | '¥' | '￥') {
            let mut p = q - 1;
            while p > 0 && c[p - 1].is_ascii_alphabetic() {
                p -= 1;
            }
            let prefix: String = c[p..q - 1].iter().collect();
            if p == 0 || !glues(c[p - 1]) {
                before = symbol_currency(c[q - 1], &prefix, region).map(|code| (p, code, 0));
            }
        } else if let Some(w) = t.word_at_or_after(q).checked_sub(1).map(|k| &t.words[k]).filter(|w| w.end == q && q < n.start) {
            if w.folded.len() == 3 {
                before = word_currency(&w.folded, region, pt).filter(|(_, s)| *s == 0).map(|(code, s)| (w.start, code, s));
            }
        }
        // After: a symbol (`15€`, `15 €`) or a word (`20 dollars`, `veinte dólares`, `50 cents`).
        let mut r = n.end;
        while r < c.len() && c[r] == ' ' && r < n.end + 2 {
            r += 1;
        }
        let mut after = None;
        if r < c.len() && matches!(c[r], '€' | '£' | '$' | '¥' | '￥' | '円' | '元' | '块') {
            after = symbol_currency(c[r], "", region).map(|code| (r + 1, code, 0));
        } else if let Some(w) = t.words.get(t.word_at_or_after(r)).filter(|w| w.start == r) {
            after = word_currency(&w.folded, region, pt).map(|(code, s)| (w.end, code, s));
        }
        let (start, end, code, shift) = match (before, after) {
            (Some((s, code, _)), Some((e, code2, 0))) if code == code2 => (s, e, code, 0),
            (Some((s, code, shift)), _) => (s, n.end, code, shift),
            (None, Some((e, code, shift))) => (n.start, e, code, shift),
            (None, None) => continue,
        };
        out.push(t.entity("money", format!("{} {code}", two_decimals(&n.value, shift)), start, end));
    }
}

#[cfg(test)]
mod tests {
    use super::two_decimals;

    #[test]
    fn amounts_have_two_decimals() {
        assert_eq!(two_decimals("20", 0), "20.00");
        assert_eq!(two_decimals("1234.5", 0), "1234.50");
        assert_eq!(two_decimals("0.125", 0), "0.13");
        assert_eq!(two_decimals("9.995", 0), "10.00");
        assert_eq!(two_decimals("50", 2), "0.50");
        assert_eq!(two_decimals("5", 2), "0.05");
        assert_eq!(two_decimals("-3", 0), "-3.00");
    }
}
