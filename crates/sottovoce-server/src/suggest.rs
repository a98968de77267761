//! Suggested replies for agents, from the bot's own replies.
//!
//! The server loads the same bot the widget runs (definition JSON or compiled model) and, for
//! the last intent the bot detected in a visitor message, offers that intent's reply as the
//! core renders it ([`sottovoce::Bot::suggested_reply`], in the conversation's locale), and
//! reads the entities the visitor mentioned ([`sottovoce::Bot::understand`]) for the agent's
//! summary. Nothing about Fluent, the definition or entity extraction is re-implemented here.
//! The bot lives on one dedicated thread, which answers requests over a channel.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;

use serde::Serialize;
use sottovoce::Bot;
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

/// An entity a visitor mentioned, as the agent's summary lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mention {
    /// The entity's name (`order_number`, `date`, `email`).
    pub entity: String,
    /// Its normalised value.
    pub value: String,
}

enum Request {
    Suggest(String, String, BTreeMap<String, String>, oneshot::Sender<Vec<Suggestion>>),
    Mentions(Vec<String>, oneshot::Sender<Vec<Mention>>),
}

/// A handle on the reply thread.
#[derive(Debug, Clone)]
pub struct Suggester {
    requests: mpsc::Sender<Request>,
}

impl Suggester {
    /// Loads a bot definition (JSON) or compiled model from `path` and starts the reply thread.
    ///
    /// # Errors
    /// [`ServerError::Bot`] naming the file when it cannot be read, parsed or loaded.
    pub fn load(path: &Path) -> Result<Suggester, ServerError> {
        let err = |message: String| ServerError::Bot { path: path.to_owned(), message };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let bot = Bot::load(&bytes).map_err(|e| err(e.to_string()))?;
        Suggester::from_bot(bot).map_err(err)
    }

    /// Starts the reply thread for `bot`.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn from_bot(bot: Bot) -> Result<Suggester, String> {
        let (requests, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("sottovoce-suggest".into())
            .spawn(move || {
                for request in rx {
                    let (intent, locale, args, answer) = match request {
                        Request::Suggest(intent, locale, args, answer) => (intent, locale, args, answer),
                        Request::Mentions(texts, answer) => {
                            let mut out: Vec<Mention> = Vec::new();
                            for text in &texts {
                                for e in bot.understand(text).entities {
                                    let m = Mention { entity: e.entity, value: e.value };
                                    if !out.contains(&m) {
                                        out.push(m);
                                    }
                                }
                            }
                            let _ = answer.send(out);
                            continue;
                        }
                    };
                    let out = bot
                        .suggested_reply(&intent, &locale, &args)
                        .map(|message| {
                            let mut text = message.text;
                            for link in &message.links {
                                text.push_str(&format!("\n{}: {}", link.label, link.url));
                            }
                            Suggestion { intent: intent.clone(), text }
                        })
                        .into_iter()
                        .collect();
                    let _ = answer.send(out);
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Suggester { requests })
    }

    /// The suggested replies for `intent` in `locale`, formatted with `args` (e.g. `name`).
    /// Empty when the intent has no reply of its own (a form, an action).
    pub async fn suggest(&self, intent: &str, locale: &str, args: BTreeMap<String, String>) -> Vec<Suggestion> {
        let (tx, rx) = oneshot::channel();
        if self.requests.send(Request::Suggest(intent.to_owned(), locale.to_owned(), args, tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// The entities the bot finds in `texts` (the visitor's messages), each distinct
    /// entity and value once, in order of first mention.
    pub async fn mentions(&self, texts: Vec<String>) -> Vec<Mention> {
        let (tx, rx) = oneshot::channel();
        if self.requests.send(Request::Mentions(texts, tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }
}
