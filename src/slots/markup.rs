//! Rasa-style inline slot markup: `book a table in [Paris](city)` → plain text plus spans.

use super::{SlotError, SlotSpan};

/// A line of example text with its markup resolved: the plain text and its slot spans.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Annotated {
    /// The text with the markup removed, as a visitor would type it.
    pub text: String,
    /// The slot spans, in order, with char offsets into `text` (end exclusive).
    pub spans: Vec<SlotSpan>,
}

/// An example's plain text, its `[value](slot)` markup read; an example without markup, or
/// whose markup is malformed (validation reports it), as it is. What a model file keeps of an
/// example made of entities alone, and what a message is compared with (`Bot::to_model`).
pub(crate) fn plain_text(e: &str) -> String {
    match parse_markup(e) {
        Ok(a) if e.contains('[') || e.contains('\\') => a.text,
        _ => e.to_owned(),
    }
}

/// Parses one annotated example line.
///
/// `[value](slot)` marks `value` as a value of `slot`; whitespace just inside the brackets is
/// left in the text but not in the span. A backslash escapes the next `[`, `]`, `(`, `)` or `\`.
/// A `]`, `(` or `)` outside markup is ordinary text.
///
/// ```
/// use sottovoce::slots::parse_markup;
/// let a = parse_markup("fly to [New York](city) [tomorrow](date)").unwrap();
/// assert_eq!(a.text, "fly to New York tomorrow");
/// assert_eq!((a.spans[0].slot.as_str(), a.spans[0].start, a.spans[0].end), ("city", 7, 15));
/// assert_eq!(a.spans[1].value, "tomorrow");
/// ```
///
/// # Errors
/// [`SlotError::UnclosedBracket`], [`SlotError::NestedBracket`], [`SlotError::MissingLabel`],
/// [`SlotError::UnclosedLabel`], [`SlotError::EmptyLabel`], [`SlotError::InvalidLabel`],
/// [`SlotError::EmptyValue`], each with
/// the offending piece of text and the char offset of its `[` in `line`.
pub fn parse_markup(line: &str) -> Result<Annotated, SlotError> {
    let chars: Vec<char> = line.chars().collect();
    let snippet =
        |from: usize, to: usize| chars[from..to.min(chars.len())].iter().collect::<String>();
    let mut text: Vec<char> = Vec::with_capacity(chars.len());
    let mut spans = Vec::new();
    // (char offset of `[` in the line, offset in the plain text where the value starts)
    let mut open: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() && matches!(chars[i + 1], '[' | ']' | '(' | ')' | '\\') => {
                text.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '[' => {
                if let Some((at, _)) = open {
                    return Err(SlotError::NestedBracket {
                        text: snippet(at, i + 1),
                        at: i,
                    });
                }
                open = Some((i, text.len()));
            }
            ']' if open.is_some() => {
                let Some((at, value_start)) = open.take() else {
                    unreachable!()
                };
                if chars.get(i + 1) != Some(&'(') {
                    return Err(SlotError::MissingLabel {
                        text: snippet(at, i + 2),
                        at,
                    });
                }
                let Some(close) = chars[i + 2..]
                    .iter()
                    .position(|&c| c == ')')
                    .map(|p| p + i + 2)
                else {
                    return Err(SlotError::UnclosedLabel {
                        text: snippet(at, chars.len()),
                        at,
                    });
                };
                let whole = snippet(at, close + 1);
                let label: String = chars[i + 2..close]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string();
                if label.is_empty() {
                    return Err(SlotError::EmptyLabel { text: whole, at });
                }
                if !label
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    return Err(SlotError::InvalidLabel {
                        text: whole,
                        label,
                        at,
                    });
                }
                let value = &text[value_start..];
                let lead = value.iter().take_while(|c| c.is_whitespace()).count();
                let trail = value.iter().rev().take_while(|c| c.is_whitespace()).count();
                if lead == value.len() {
                    return Err(SlotError::EmptyValue { text: whole, at });
                }
                let (start, end) = (value_start + lead, text.len() - trail);
                spans.push(SlotSpan {
                    slot: label,
                    value: text[start..end].iter().collect(),
                    start,
                    end,
                });
                i = close + 1;
                continue;
            }
            _ => text.push(c),
        }
        i += 1;
    }
    if let Some((at, _)) = open {
        return Err(SlotError::UnclosedBracket {
            text: snippet(at, chars.len()),
            at,
        });
    }
    Ok(Annotated {
        text: text.into_iter().collect(),
        spans,
    })
}
