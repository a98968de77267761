//! How the `sottovoce` command reports a failure: one line per problem, naming the file, the
//! line and the field, and no error chain or stack trace unless `RUST_BACKTRACE` asks for one.
//!
//! The problems are the core's own typed errors ([`DefinitionError`] inside [`BotError`]), read
//! from the `anyhow` chain; this module only places them in the file. A subcommand marks which
//! file an error is about with the [`InFile`] context.

use std::fmt;
use std::path::PathBuf;

use sottovoce::definition::DefinitionError;
use sottovoce::BotError;

/// Context for an error about one file: `.with_context(|| InFile(path.to_owned()))`. The
/// report names the file, and the line in it of each problem's JSON path.
#[derive(Debug)]
pub(crate) struct InFile(pub(crate) PathBuf);

impl fmt::Display for InFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.display())
    }
}

/// The report of `error` for stderr, without a trailing newline: every line starts `error: `.
/// With `backtrace` (`RUST_BACKTRACE` set and not `0`), anyhow's full report (the chain of
/// causes, and the backtrace when one was captured) instead.
///
/// A definition's problems (`DefinitionError::Invalid`) get one line each,
/// `error: <file>:<line>: <json path>: <message>` (the line of that path's value in the file,
/// when the file reads); a syntax error `error: <file>:<line>:<column>: <message>`; anything
/// else its causes on one line, outermost first, separated by `: `.
pub(crate) fn render(error: &anyhow::Error, backtrace: bool) -> String {
    if backtrace {
        return format!("error: {error:?}");
    }
    let file = error.downcast_ref::<InFile>().map(|f| f.0.as_path());
    match (definition_error(error), file) {
        (Some(DefinitionError::Invalid(problems)), Some(file)) => {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            problems
                .iter()
                .map(|p| match line_of(&text, &p.path) {
                    Some(line) => format!("error: {}:{line}: {p}", file.display()),
                    None => format!("error: {}: {p}", file.display()),
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        (Some(DefinitionError::Syntax { line, column, message }), Some(file)) => {
            // serde_json ends its message with the place, which the prefix already gives.
            let message = message.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(message);
            format!("error: {}:{line}:{column}: not a bot definition: {message}", file.display())
        }
        _ => format!("error: {error:#}"),
    }
}

/// Whether `RUST_BACKTRACE` (as std reads it) asks for backtraces.
pub(crate) fn backtrace_requested() -> bool {
    std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0")
}

/// The core's definition error anywhere in the chain, also inside a [`BotError`] (whose
/// `Definition` variant is transparent, so the chain does not list it on its own).
fn definition_error(error: &anyhow::Error) -> Option<&DefinitionError> {
    error.chain().find_map(|e| {
        e.downcast_ref::<DefinitionError>().or(match e.downcast_ref::<BotError>() {
            Some(BotError::Definition(d)) => Some(d),
            _ => None,
        })
    })
}

/// One step of a problem's JSON path (`intents[3].examples.en[2]`).
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps of a path as the core writes them: keys separated by `.`, each followed by any
/// number of `[index]`. `None` for a path not of that shape.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if key.is_empty() {
            return None;
        }
        out.push(Step::Key(key));
        while let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']')?;
            out.push(Step::Index(inner[..end].parse().ok()?));
            rest = &inner[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// The 1-based line in JSON `text` where the value at `path` starts, or, when the path goes
/// further than the file (a missing field), where its deepest existing ancestor starts. `None`
/// when the text is not JSON along the way or the path is not of the core's shape.
fn line_of(text: &str, path: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = skip_ws(bytes, 0);
    for step in steps(path)? {
        match (step, bytes.get(at)?) {
            (Step::Key(key), b'{') => match member(bytes, at, key)? {
                Some(value) => at = value,
                None => break,
            },
            (Step::Index(n), b'[') => match element(bytes, at, n)? {
                Some(value) => at = value,
                None => break,
            },
            _ => break,
        }
    }
    Some(text[..at].bytes().filter(|&b| b == b'\n').count() + 1)
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The end of the string starting at `at` (just past its closing quote).
fn skip_string(bytes: &[u8], mut at: usize) -> Option<usize> {
    at += 1;
    loop {
        match bytes.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

/// The end of the value starting at `at`.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let len = bytes[at..].iter().position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace());
            Some(at + len.unwrap_or(bytes.len() - at))
        }
    }
}

/// Where the value of `key` starts in the object at `at`: `Some(None)` when it has no such key.
fn member(bytes: &[u8], at: usize, key: &str) -> Option<Option<usize>> {
    let mut i = skip_ws(bytes, at + 1);
    while bytes.get(i)? == &b'"' {
        let end = skip_string(bytes, i)?;
        // Keys the core names have no escapes; compare the raw text.
        let name = &bytes[i + 1..end - 1];
        i = skip_ws(bytes, end);
        if bytes.get(i)? != &b':' {
            return None;
        }
        let value = skip_ws(bytes, i + 1);
        if name == key.as_bytes() {
            return Some(Some(value));
        }
        i = skip_ws(bytes, skip_value(bytes, value)?);
        if bytes.get(i)? == &b',' {
            i = skip_ws(bytes, i + 1);
        }
    }
    Some(None)
}

/// Where element `n` starts in the array at `at`: `Some(None)` when it is shorter.
fn element(bytes: &[u8], at: usize, n: usize) -> Option<Option<usize>> {
    let mut i = skip_ws(bytes, at + 1);
    for _ in 0..n {
        if bytes.get(i)? == &b']' {
            return Some(None);
        }
        i = skip_ws(bytes, skip_value(bytes, i)?);
        if bytes.get(i)? == &b',' {
            i = skip_ws(bytes, i + 1);
        }
    }
    Some((bytes.get(i)? != &b']').then_some(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"intents\": [\n    {\"name\": \"a\"},\n    {\n      \"name\": \"b\",\n      \"examples\": {\"en\": [\"x\",\n        \"y [z\"]}\n    }\n  ]\n}\n";

    #[test]
    fn paths_are_placed_on_their_lines() {
        for (path, line) in [
            ("intents", 2),
            ("intents[0]", 3),
            ("intents[1].name", 5),
            ("intents[1].examples.en[1]", 7),
            ("intents[1].examples.es", 6),
            ("intents[5]", 2),
            ("format", 1),
        ] {
            assert_eq!(line_of(TEXT, path), Some(line), "{path}");
        }
        assert_eq!(steps("a[1][2].b"), Some(vec![Step::Key("a"), Step::Index(1), Step::Index(2), Step::Key("b")]));
        assert_eq!(steps("a[x]"), None);
        assert_eq!(line_of("not json", "intents[0]"), Some(1));
    }
}
