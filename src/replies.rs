//! Localised replies: Fluent messages per locale (fluent-bundle), falling back to the default
//! locale for a missing id, so a partial translation still answers.
//!
//! Each definition message `id → pattern` becomes the Fluent entry `id = pattern` in the bundle
//! of its locale. Every message is parsed as its own resource, so a syntax error is reported
//! with the exact path `messages.<locale>.<id>` and the other messages still load. Ids that are
//! not Fluent identifiers (`order.done`) are stored under a generated identifier; they work,
//! but other messages cannot reference them with `{ order.done }`.
//!
//! Unicode isolation marks (U+2068/U+2069 around placeables) are switched off: the widget
//! renders plain text nodes and the marks would show up in copied text and in tests.

use std::collections::{BTreeMap, HashMap};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

use crate::definition::{BotDefinition, Problem};

struct LocaleBundle {
    /// Definition message id → Fluent identifier in `bundle`.
    ids: HashMap<String, String>,
    bundle: FluentBundle<FluentResource>,
}

/// The bot's messages, ready to format in any of its locales. `Send + Sync`, so one bot can
/// serve many conversations at once (the escalation server shares it between requests).
pub struct Replies {
    /// One bundle per locale, in the definition's (sorted) locale order. A few locales at most:
    /// a Vec searched in order costs the wasm bundle less than a map type of its own.
    bundles: Vec<(String, LocaleBundle)>,
    default_locale: String,
}

impl std::fmt::Debug for Replies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replies")
            .field("locales", &self.bundles.iter().map(|(l, _)| l).collect::<Vec<_>>())
            .finish()
    }
}

/// True for a valid Fluent message identifier: `[a-zA-Z][a-zA-Z0-9_-]*`.
fn is_fluent_identifier(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The Fluent source of one message: continuation lines are indented so a multi-line value
/// stays one pattern.
fn entry_source(fluent_id: &str, pattern: &str) -> String {
    let mut source = format!("{fluent_id} =");
    for (i, line) in pattern.lines().enumerate() {
        if i == 0 {
            source.push(' ');
        } else {
            source.push_str("\n    ");
        }
        source.push_str(line);
    }
    source.push('\n');
    source
}

/// The variables (`$name` → `name`) that a message pattern reads, in order of appearance,
/// each once, from Fluent's own parse of it (selectors, variants, function arguments and
/// nested placeables included); empty for a pattern that does not parse (its syntax error is
/// [`Replies::new`]'s to report).
pub fn variables(pattern: &str) -> Vec<String> {
    use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

    fn inline(e: &InlineExpression<&str>, out: &mut Vec<String>) {
        match e {
            InlineExpression::VariableReference { id } if !out.iter().any(|v| v == id.name) => out.push(id.name.to_owned()),
            InlineExpression::FunctionReference { arguments, .. }
            | InlineExpression::TermReference { arguments: Some(arguments), .. } => {
                arguments.positional.iter().for_each(|a| inline(a, out));
                arguments.named.iter().for_each(|a| inline(&a.value, out));
            }
            InlineExpression::Placeable { expression } => expr(expression, out),
            _ => {}
        }
    }
    fn expr(e: &Expression<&str>, out: &mut Vec<String>) {
        match e {
            Expression::Inline(e) => inline(e, out),
            Expression::Select { selector, variants } => {
                inline(selector, out);
                variants.iter().for_each(|v| pattern_of(&v.value, out));
            }
        }
    }
    fn pattern_of(p: &Pattern<&str>, out: &mut Vec<String>) {
        for element in &p.elements {
            if let PatternElement::Placeable { expression } = element {
                expr(expression, out);
            }
        }
    }

    let mut out = Vec::new();
    let Ok(resource) = FluentResource::try_new(entry_source("m", pattern)) else { return out };
    for entry in resource.entries() {
        if let Entry::Message(message) = entry {
            message.value.iter().for_each(|p| pattern_of(p, &mut out));
        }
    }
    out
}

impl Replies {
    /// Parses every locale's messages into one Fluent bundle per locale.
    ///
    /// # Errors
    /// Every Fluent syntax error (and empty message), each with the path
    /// `messages.<locale>.<id>`. Nothing is returned partially: a definition with a broken
    /// message is rejected so the owner fixes it before visitors see it.
    pub fn new(def: &BotDefinition) -> Result<Replies, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut bundles = Vec::with_capacity(def.messages.len());
        for (locale, messages) in &def.messages {
            let langid: LanguageIdentifier = locale.parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            bundle.set_use_isolating(false);
            let mut ids = HashMap::new();
            for (n, (id, pattern)) in messages.iter().enumerate() {
                let path = format!("messages.{locale}.{id}");
                if pattern.trim().is_empty() {
                    problems.push(Problem {
                        path,
                        message: "empty message".into(),
                    });
                    continue;
                }
                let fluent_id = if is_fluent_identifier(id) {
                    id.clone()
                } else {
                    format!("sottovoce-message-{n}")
                };
                let resource = match FluentResource::try_new(entry_source(&fluent_id, pattern)) {
                    Ok(resource) => resource,
                    Err((_, errors)) => {
                        let detail: Vec<String> =
                            errors.iter().map(|e| e.kind.to_string()).collect();
                        problems.push(Problem {
                            path,
                            message: format!("not a valid Fluent pattern: {}", detail.join("; ")),
                        });
                        continue;
                    }
                };
                // A pattern such as "a\nb = c" would define a second message; catch it.
                if resource.entries().count() != 1 {
                    problems.push(Problem {
                        path,
                        message: "not a single Fluent pattern (a line looks like `key = value`)"
                            .into(),
                    });
                    continue;
                }
                if let Err(errors) = bundle.add_resource(resource) {
                    let detail: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    problems.push(Problem {
                        path,
                        message: detail.join("; "),
                    });
                    continue;
                }
                ids.insert(id.clone(), fluent_id);
            }
            bundles.push((locale.clone(), LocaleBundle { ids, bundle }));
        }
        if problems.is_empty() {
            Ok(Replies {
                bundles,
                default_locale: def.default_locale().to_owned(),
            })
        } else {
            Err(problems)
        }
    }

    /// The bundle of exactly `locale`, if the definition has messages in it.
    fn bundle(&self, locale: &str) -> Option<&LocaleBundle> {
        self.bundles.iter().find(|(l, _)| l == locale).map(|(_, b)| b)
    }

    /// True when message `id` exists in `locale` or in the default locale.
    pub fn has(&self, locale: &str, id: &str) -> bool {
        [locale, self.default_locale.as_str()]
            .iter()
            .any(|l| self.bundle(l).is_some_and(|b| b.ids.contains_key(id)))
    }

    /// Formats message `id` in `locale` with string arguments (`$name`, slot values…).
    ///
    /// Returns plain text. The locale chain is `locale`, then its language (`es` for `es-MX`),
    /// then the default locale. A missing id everywhere returns the id itself (validation
    /// prevents that for a checked definition); a variable the caller did not pass shows as
    /// `{$name}`. Never panics.
    pub fn format(&self, locale: &str, id: &str, args: &BTreeMap<String, String>) -> String {
        let language = locale.split(['-', '_']).next().unwrap_or(locale);
        for l in [locale, language, self.default_locale.as_str()] {
            let Some(lb) = self.bundle(l) else {
                continue;
            };
            let Some(fluent_id) = lb.ids.get(id) else {
                continue;
            };
            let Some(pattern) = lb.bundle.get_message(fluent_id).and_then(|m| m.value()) else {
                continue;
            };
            let mut fluent_args = FluentArgs::with_capacity(args.len());
            for (k, v) in args {
                fluent_args.set(k.as_str(), FluentValue::from(v.as_str()));
            }
            let mut errors = Vec::new();
            return lb
                .bundle
                .format_pattern(pattern, Some(&fluent_args), &mut errors)
                .into_owned();
        }
        id.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(messages: &[(&str, &[(&str, &str)])]) -> BotDefinition {
        let json = serde_json::json!({
            "format": 1, "id": "t", "name": "T", "locales": ["en", "es"], "intents": [],
            "messages": {}, "fallback": {"message": "x"}, "greeting": {"message": "x", "returning": "x"}
        });
        let mut def: BotDefinition = serde_json::from_value(json).unwrap();
        for (locale, pairs) in messages {
            let m = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            def.messages.insert(locale.to_string(), m);
        }
        def
    }

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn formats_variables_without_isolation_marks() {
        let r = Replies::new(&def(&[
            ("en", &[("hi", "Hi { $name }!")]),
            ("es", &[("hi", "¡Hola { $name }!")]),
        ]))
        .unwrap();
        assert_eq!(r.format("en", "hi", &args(&[("name", "Ana")])), "Hi Ana!");
        assert_eq!(
            r.format("es", "hi", &args(&[("name", "Ana")])),
            "¡Hola Ana!"
        );
        assert_eq!(
            r.format("es-MX", "hi", &args(&[("name", "Ana")])),
            "¡Hola Ana!"
        );
    }

    #[test]
    fn falls_back_to_default_locale_then_id() {
        let r = Replies::new(&def(&[("en", &[("only-en", "English")]), ("es", &[])])).unwrap();
        assert_eq!(r.format("es", "only-en", &args(&[])), "English");
        assert_eq!(r.format("fr", "only-en", &args(&[])), "English");
        assert_eq!(r.format("es", "missing", &args(&[])), "missing");
        assert!(r.has("es", "only-en"));
        assert!(!r.has("es", "missing"));
    }

    #[test]
    fn multi_line_values_dotted_ids_and_references() {
        let r = Replies::new(&def(&[
            (
                "en",
                &[
                    ("brand", "Trailhead"),
                    ("order.done", "Line one\nLine two from { brand }"),
                ],
            ),
            ("es", &[]),
        ]))
        .unwrap();
        assert_eq!(
            r.format("en", "order.done", &args(&[])),
            "Line one\nLine two from Trailhead"
        );
    }

    #[test]
    fn missing_variable_does_not_panic() {
        let r = Replies::new(&def(&[("en", &[("hi", "Hi { $name }")]), ("es", &[])])).unwrap();
        assert_eq!(r.format("en", "hi", &args(&[])), "Hi {$name}");
    }

    #[test]
    fn reports_every_syntax_error_with_its_path() {
        let err = Replies::new(&def(&[
            (
                "en",
                &[("ok", "Fine"), ("bad", "Broken { $name"), ("empty", "  ")],
            ),
            ("es", &[("also-bad", "Roto { }")]),
        ]))
        .unwrap_err();
        let paths: Vec<&str> = err.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "messages.en.bad",
                "messages.en.empty",
                "messages.es.also-bad"
            ]
        );
    }

    #[test]
    fn variables_are_read_from_every_part_of_a_pattern() {
        let pattern = "Hi { $name }! { $country ->\n [usa] Free over { $fact_free_over }.\n *[none] { NUMBER($fact_days) } days, { $name }\n}";
        assert_eq!(variables(pattern), ["name", "country", "fact_free_over", "fact_days"]);
        assert_eq!(variables("No variables, $fact_x is text"), Vec::<String>::new());
        assert_eq!(variables("Broken { $x"), Vec::<String>::new());
    }

    #[test]
    fn replies_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Replies>();
    }
}

/// A button offered under a bot message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuickReply {
    /// The label, localised.
    pub label: String,
    /// The intent it triggers (`None`: the label is sent as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// The bot locale it selects (a button of the offer of the bot's languages, labelled with
    /// the language's own name): pressing it makes that locale the visitor's choice, as
    /// `Bot::set_locale` does. `None` for every other button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// A link under a bot message. `url` is always `http:`, `https:`, `mailto:` or `tel:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The link text, localised.
    pub label: String,
    /// The target.
    pub url: String,
}

/// One message from the bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotMessage {
    /// The message id in the definition it was rendered from (tests match on it).
    pub id: String,
    /// Plain text, localised (never HTML).
    pub text: String,
    /// Buttons offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick_replies: Vec<QuickReply>,
    /// Links offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// Fills the `{name}` placeholders of `template` with `encode(values[name])` (names trimmed).
/// `None` when a placeholder has no value or a `{` is never closed. Used for URL templates,
/// form `recommend` templates and the escalation server's canned replies.
pub fn fill_placeholders(template: &str, values: &BTreeMap<String, String>, encode: impl Fn(&str) -> String) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        out.push_str(&encode(values.get(after[..close].trim())?));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// True for URLs the widget may render as links: `http`, `https`, `mailto`, `tel`.
pub fn is_allowed_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    ["http://", "https://", "mailto:", "tel:"].iter().any(|s| lower.starts_with(s))
}
