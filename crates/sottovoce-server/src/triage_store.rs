//! The queries of triage (schema `0012_triage.sql`): assignment, the team's canned replies and
//! every agent's presence, as more methods on [`Store`].

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::identity::Identity;
use crate::store::{Conversation, Store};

/// A canned reply as stored: `text` may hold `{name}`-style variables
/// ([`crate::triage::CANNED_VARIABLES`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Canned {
    /// Row id.
    pub id: i64,
    /// A short label the inbox shows on its button.
    pub title: String,
    /// The reply, with variables unfilled.
    pub text: String,
}

/// An agent as colleagues see them: presence and load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Colleague {
    /// Their sign-in email.
    pub email: String,
    /// `online` or `away` while their inbox renews it, else `offline`.
    pub presence: String,
    /// Open conversations assigned to them.
    pub assigned_open: i64,
}

/// What [`Store::assign`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned {
    /// Done.
    Ok,
    /// No conversation with that id.
    NoConversation,
    /// The conversation is resolved.
    Resolved,
}

impl Store {
    /// Assigns conversation `id` to agent `agent_id` (`None`: releases it).
    ///
    /// # Errors
    /// Database failures (an unknown `agent_id` is a foreign-key failure: callers look the
    /// agent up first).
    pub async fn assign(&self, id: &str, agent_id: Option<i64>, now_ms: i64) -> Result<Assigned, sqlx::Error> {
        let done = sqlx::query("UPDATE conversations SET assignee_id = $1, updated_ms = $2 WHERE id = $3 AND status = 'open'")
            .bind(agent_id)
            .bind(now_ms)
            .bind(id)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 1 {
            return Ok(Assigned::Ok);
        }
        Ok(match self.conversation_auth(id).await? {
            None => Assigned::NoConversation,
            Some(_) => Assigned::Resolved,
        })
    }

    /// Every agent with their presence at `now_ms` and their open assigned conversations,
    /// ordered by email.
    ///
    /// # Errors
    /// Database failures.
    pub async fn colleagues(&self, now_ms: i64) -> Result<Vec<Colleague>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT a.email, \
               (SELECT p.status FROM agent_presence p WHERE p.agent_id = a.id AND p.expires_ms > $1) AS presence, \
               (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'open') AS assigned_open \
             FROM agents a ORDER BY a.email",
        )
        .bind(now_ms)
        .fetch_all(self.writer())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Colleague {
                    email: r.try_get("email")?,
                    presence: r.try_get::<Option<String>, _>("presence")?.unwrap_or_else(|| "offline".to_owned()),
                    assigned_open: r.try_get("assigned_open")?,
                })
            })
            .collect()
    }

    /// The canned replies, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn canned(&self) -> Result<Vec<Canned>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, title, text FROM canned_replies ORDER BY id").fetch_all(self.reader()).await?;
        rows.iter().map(|r| Ok(Canned { id: r.try_get("id")?, title: r.try_get("title")?, text: r.try_get("text")? })).collect()
    }

    /// Stores a canned reply; returns it with its id.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_canned(&self, title: &str, text: &str, now_ms: i64) -> Result<Canned, sqlx::Error> {
        let row = sqlx::query("INSERT INTO canned_replies (title, text, created_ms) VALUES ($1, $2, $3) RETURNING id")
            .bind(title)
            .bind(text)
            .bind(now_ms)
            .fetch_one(self.writer())
            .await?;
        Ok(Canned { id: row.try_get("id")?, title: title.to_owned(), text: text.to_owned() })
    }

    /// Deletes a canned reply; `false` when there was none with that id.
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_canned(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM canned_replies WHERE id = $1").bind(id).execute(self.writer()).await?;
        Ok(done.rows_affected() == 1)
    }
}

/// A canned reply ready for one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilledCanned {
    /// The stored reply's id.
    pub id: i64,
    /// Its label.
    pub title: String,
    /// The text with the conversation's values; when one is unknown (a visitor who gave no
    /// name), the template as written, for the agent to finish.
    pub text: String,
    /// False when a variable had no value and `text` still holds it.
    pub complete: bool,
}

/// Fills each canned reply's variables for conversation `c` answered by `agent_email`:
/// `{name}` (the visitor's name, when sent), `{agent}` (the part of the agent's email before
/// `@`), `{customer_id}` (when verified), `{locale}`.
pub fn fill_canned(canned: &[Canned], c: &Conversation, agent_email: &str) -> Vec<FilledCanned> {
    let mut values = BTreeMap::new();
    if let Some(name) = c.profile.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) {
        values.insert("name".to_owned(), name.to_owned());
    }
    values.insert("agent".to_owned(), agent_email.split('@').next().unwrap_or(agent_email).to_owned());
    if let (Some(id), Identity::Verified) = (&c.customer_id, c.identity) {
        values.insert("customer_id".to_owned(), id.clone());
    }
    values.insert("locale".to_owned(), c.locale.clone());
    canned
        .iter()
        .map(|k| match sottovoce::fill_placeholders(&k.text, &values, str::to_owned) {
            Some(text) => FilledCanned { id: k.id, title: k.title.clone(), text, complete: true },
            None => FilledCanned { id: k.id, title: k.title.clone(), text: k.text.clone(), complete: false },
        })
        .collect()
}
