//! Suggested replies for agents, from the bot definition's own reply table.
//!
//! The server loads the same bot the widget runs (definition JSON or compiled model) and, for
//! the last intent the bot detected in a visitor message, offers that intent's reply rendered by
//! the core's [`sottovoce::replies::Replies`] in the conversation's locale. Nothing about Fluent
//! is re-implemented here. `Replies` lives on one dedicated thread (Fluent bundles need not be
//! `Send`), which answers requests over a channel.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;

use serde::Serialize;
use sottovoce::{Bot, BotDefinition};
use tokio::sync::oneshot;

use crate::ServerError;

/// One suggested reply.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suggestion {
    /// The intent it answers.
    pub intent: String,
    /// The text, ready to send (links appended as `label: url` lines).
    pub text: String,
}

type Request = (String, String, BTreeMap<String, String>, oneshot::Sender<Vec<Suggestion>>);

/// A handle on the reply thread.
#[derive(Debug, Clone)]
pub struct Suggester {
    requests: mpsc::Sender<Request>,
}

impl Suggester {
    /// Loads a bot definition (JSON) or compiled model from `path` and starts the reply thread.
    ///
    /// # Errors
    /// [`ServerError::Bot`] naming the file when it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Suggester, ServerError> {
        let err = |message: String| ServerError::Bot { path: path.to_owned(), message };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let definition = if sottovoce::model::is_model(&bytes) {
            Bot::from_model(&bytes).map_err(|e| err(e.to_string()))?.definition().clone()
        } else {
            let text = String::from_utf8(bytes).map_err(|e| err(e.to_string()))?;
            BotDefinition::from_json(&text).map_err(|e| err(e.to_string()))?
        };
        Suggester::from_definition(definition).map_err(err)
    }

    /// Starts the reply thread for a definition.
    ///
    /// # Errors
    /// The definition's Fluent problems, one per line.
    pub fn from_definition(definition: BotDefinition) -> Result<Suggester, String> {
        let (requests, rx) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        std::thread::Builder::new()
            .name("sottovoce-suggest".into())
            .spawn(move || {
                let replies = match sottovoce::replies::Replies::new(&definition) {
                    Ok(replies) => {
                        let _ = ready_tx.send(Ok(()));
                        replies
                    }
                    Err(problems) => {
                        let text = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
                        let _ = ready_tx.send(Err(text));
                        return;
                    }
                };
                for (intent, locale, args, answer) in rx {
                    let mut out = Vec::new();
                    if let Some(reply) = definition.intents.iter().find(|i| i.name == intent).and_then(|i| i.reply.as_ref()) {
                        let mut text = replies.format(&locale, &reply.message, &args);
                        for link in &reply.links {
                            let label = replies.format(&locale, &link.label, &args);
                            // Templates with `{slot}` placeholders need slots the agent does not
                            // have; offer only complete URLs.
                            if !link.url.contains('{') && sottovoce::dialogue::is_allowed_url(&link.url) {
                                text.push_str(&format!("\n{label}: {}", link.url));
                            }
                        }
                        out.push(Suggestion { intent: intent.clone(), text });
                    }
                    let _ = answer.send(out);
                }
            })
            .map_err(|e| e.to_string())?;
        ready_rx.recv().map_err(|e| e.to_string())??;
        Ok(Suggester { requests })
    }

    /// The suggested replies for `intent` in `locale`, formatted with `args` (e.g. `name`).
    /// Empty when the intent has no reply of its own (a form, an action).
    pub async fn suggest(&self, intent: &str, locale: &str, args: BTreeMap<String, String>) -> Vec<Suggestion> {
        let (tx, rx) = oneshot::channel();
        if self.requests.send((intent.to_owned(), locale.to_owned(), args, tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }
}
