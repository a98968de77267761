//! Tokens for slot tagging: letter runs, digit runs and single punctuation marks, with offsets.

/// A token: char offsets into the text (end exclusive), its text and its lower-cased text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) text: String,
    pub(crate) lower: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Space,
    Letter,
    Digit,
    Other,
}

fn class(c: char) -> Class {
    if c.is_whitespace() {
        Class::Space
    } else if c.is_numeric() {
        Class::Digit
    } else if c.is_alphanumeric() {
        Class::Letter
    } else {
        Class::Other
    }
}

/// Splits `text` into tokens. A token is a run of letters, a run of digits, or one other
/// non-space char; a letter-digit boundary splits (`5pm` → `5`, `pm`) so that slot values
/// glued to their neighbours (`2times` in SNIPS) still start and end on token boundaries.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current: Option<(usize, Class, String)> = None;
    let flush = |cur: &mut Option<(usize, Class, String)>, end: usize, tokens: &mut Vec<Token>| {
        if let Some((start, _, s)) = cur.take() {
            let lower = s.to_lowercase();
            tokens.push(Token {
                start,
                end,
                text: s,
                lower,
            });
        }
    };
    let mut n = 0;
    for (i, c) in text.chars().enumerate() {
        n = i + 1;
        let k = class(c);
        let continues = matches!(&current, Some((_, cls, _)) if *cls == k && k != Class::Other);
        if continues {
            if let Some((_, _, s)) = current.as_mut() {
                s.push(c);
            }
            continue;
        }
        flush(&mut current, i, &mut tokens);
        if k != Class::Space {
            current = Some((i, k, c.to_string()));
        }
    }
    flush(&mut current, n, &mut tokens);
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_digits_and_marks() {
        let t = tokenize("Play R&B at 5pm, ok?");
        let words: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            words,
            ["Play", "R", "&", "B", "at", "5", "pm", ",", "ok", "?"]
        );
        assert_eq!(
            (t[5].start, t[5].end, t[6].start, t[6].end),
            (12, 13, 13, 15)
        );
        assert_eq!(t[0].lower, "play");
    }

    #[test]
    fn offsets_count_chars_not_bytes() {
        let t = tokenize("Cita Romántica  x");
        assert_eq!((t[1].start, t[1].end, t[2].start), (5, 14, 16));
    }
}
