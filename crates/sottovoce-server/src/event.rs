//! The doorbell every change rings: "conversation X changed", and the PostgreSQL channel it
//! travels on.
//!
//! It sits below both [`crate::store`] (which rings it inside the transaction that creates an
//! escalation) and [`crate::live`] (which fans it out), so neither depends on the other for it.

use serde::{Deserialize, Serialize};

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "sottovoce_events";

/// What happened to a conversation. On the wire: `created`, `message`, `resolved`, `assigned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An escalation was stored.
    Created,
    /// A message was added.
    Message,
    /// An agent resolved it.
    Resolved,
    /// An agent took, assigned or released it.
    Assigned,
}

/// Something happened to a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The conversation's id.
    pub conversation_id: String,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// The `pg_notify` payload: the event as JSON.
    pub fn payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
