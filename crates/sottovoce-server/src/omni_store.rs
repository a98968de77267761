//! The queries of presence, email contacts, extra visitor tokens and messaging-channel chats
//! (schema `0010_omnichannel.sql`), as more methods on [`Store`].

use sqlx::Row;

use crate::store::{Conversation, Store};

/// The email a visitor gave for one escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// The address, as checked by [`crate::mail::check_address`].
    pub email: String,
    /// The id of the last agent message already emailed.
    pub last_mailed_id: i64,
}

/// A messaging-channel chat: the bot's state for it and the escalation it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    /// The channel's name (`telegram`, `json`).
    pub channel: String,
    /// The platform's chat id.
    pub chat_id: String,
    /// The core's `ConversationState`, as JSON.
    pub state_json: String,
    /// The open escalation the chat's messages go to, if any.
    pub conversation_id: Option<String>,
    /// The id of the last agent message already sent to the chat.
    pub last_sent_id: i64,
}

impl Store {
    /// Renews agent `agent_id`'s presence until `expires_ms`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_presence(&self, agent_id: i64, status: &str, expires_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO agent_presence (agent_id, status, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (agent_id) DO UPDATE SET status = excluded.status, expires_ms = excluded.expires_ms",
        )
        .bind(agent_id)
        .bind(status)
        .bind(expires_ms)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Agents `online` whose presence has not expired at `now_ms`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn agents_online(&self, now_ms: i64) -> Result<i64, sqlx::Error> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM agent_presence WHERE status = 'online' AND expires_ms > $1")
            .bind(now_ms)
            .fetch_one(self.writer())
            .await?;
        row.try_get("n")
    }

    /// Stores (or replaces) the email of a conversation. Agent messages already in the
    /// conversation are not mailed: only replies from now on.
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_contact(&self, conversation_id: &str, email: &str, consent_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO conversation_contacts (conversation_id, email, consent_ms, last_mailed_id) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(id), 0) FROM messages WHERE conversation_id = $1)) \
             ON CONFLICT (conversation_id) DO UPDATE SET email = excluded.email, consent_ms = excluded.consent_ms",
        )
        .bind(conversation_id)
        .bind(email)
        .bind(consent_ms)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The email of a conversation, if the visitor gave one.
    ///
    /// # Errors
    /// Database failures.
    pub async fn contact(&self, conversation_id: &str) -> Result<Option<Contact>, sqlx::Error> {
        let row = sqlx::query("SELECT conversation_id, email, last_mailed_id FROM conversation_contacts WHERE conversation_id = $1")
            .bind(conversation_id)
            .fetch_optional(self.writer())
            .await?;
        row.map(|r| Ok(Contact { conversation_id: r.try_get("conversation_id")?, email: r.try_get("email")?, last_mailed_id: r.try_get("last_mailed_id")? }))
            .transpose()
    }

    /// Moves a contact's mailed mark forward to `message_id` (never back); `false` when another
    /// process got there first, so each reply is mailed once.
    ///
    /// # Errors
    /// Database failures.
    pub async fn mark_mailed(&self, conversation_id: &str, from_id: i64, message_id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE conversation_contacts SET last_mailed_id = $1 WHERE conversation_id = $2 AND last_mailed_id = $3")
            .bind(message_id)
            .bind(conversation_id)
            .bind(from_id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores one more visitor token (its SHA-256) for a conversation.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_visitor_token(&self, conversation_id: &str, token_hash: &str, now_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO visitor_tokens (token_hash, conversation_id, created_ms) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(conversation_id)
            .bind(now_ms)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Whether `token_hash` is an extra token of `conversation_id`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn has_visitor_token(&self, conversation_id: &str, token_hash: &str) -> Result<bool, sqlx::Error> {
        let row = sqlx::query("SELECT conversation_id FROM visitor_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(self.writer())
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>("conversation_id")).transpose()?.is_some_and(|c| c == conversation_id))
    }

    /// Open conversations whose customer id the site vouched for (identity `verified`),
    /// newest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn open_for_customer(&self, customer_id: &str) -> Result<Vec<Conversation>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id FROM conversations WHERE customer_id = $1 AND identity = 'verified' AND status = 'open' \
             ORDER BY created_ms DESC LIMIT 10",
        )
        .bind(customer_id)
        .fetch_all(self.writer())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(c) = self.conversation(&r.try_get::<String, _>("id")?).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Sets the channel a conversation came from.
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_channel(&self, conversation_id: &str, channel: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE conversations SET channel = $1 WHERE id = $2").bind(channel).bind(conversation_id).execute(self.writer()).await?;
        Ok(())
    }

    /// One channel chat, if it wrote before.
    ///
    /// # Errors
    /// Database failures.
    pub async fn chat(&self, channel: &str, chat_id: &str) -> Result<Option<Chat>, sqlx::Error> {
        let row = sqlx::query(&format!("{CHAT_SELECT} WHERE channel = $1 AND chat_id = $2"))
            .bind(channel)
            .bind(chat_id)
            .fetch_optional(self.writer())
            .await?;
        row.as_ref().map(chat_from_row).transpose()
    }

    /// The channel chat bound to a conversation, if any.
    ///
    /// # Errors
    /// Database failures.
    pub async fn chat_of(&self, conversation_id: &str) -> Result<Option<Chat>, sqlx::Error> {
        let row = sqlx::query(&format!("{CHAT_SELECT} WHERE conversation_id = $1"))
            .bind(conversation_id)
            .fetch_optional(self.writer())
            .await?;
        row.as_ref().map(chat_from_row).transpose()
    }

    /// Creates or updates a channel chat.
    ///
    /// # Errors
    /// Database failures.
    pub async fn save_chat(&self, chat: &Chat, now_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO channel_chats (channel, chat_id, state_json, conversation_id, last_sent_id, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel, chat_id) DO UPDATE SET \
             state_json = excluded.state_json, conversation_id = excluded.conversation_id, \
             last_sent_id = excluded.last_sent_id, updated_ms = excluded.updated_ms",
        )
        .bind(&chat.channel)
        .bind(&chat.chat_id)
        .bind(&chat.state_json)
        .bind(&chat.conversation_id)
        .bind(chat.last_sent_id)
        .bind(now_ms)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Moves a chat's sent mark forward (see [`Store::mark_mailed`]).
    ///
    /// # Errors
    /// Database failures.
    pub async fn mark_sent(&self, channel: &str, chat_id: &str, from_id: i64, message_id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE channel_chats SET last_sent_id = $1 WHERE channel = $2 AND chat_id = $3 AND last_sent_id = $4")
            .bind(message_id)
            .bind(channel)
            .bind(chat_id)
            .bind(from_id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Conversations with an email contact or a channel chat and an agent message not yet
    /// delivered (the sweep after a restart or a failed send).
    ///
    /// # Errors
    /// Database failures.
    pub async fn undelivered(&self) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT k.conversation_id AS id FROM conversation_contacts k WHERE EXISTS (SELECT 1 FROM messages m \
               WHERE m.conversation_id = k.conversation_id AND m.author = 'agent' AND m.id > k.last_mailed_id) \
             UNION SELECT h.conversation_id AS id FROM channel_chats h WHERE h.conversation_id IS NOT NULL AND EXISTS \
               (SELECT 1 FROM messages m WHERE m.conversation_id = h.conversation_id AND m.author = 'agent' AND m.id > h.last_sent_id)",
        )
        .fetch_all(self.writer())
        .await?;
        rows.iter().map(|r| r.try_get("id")).collect()
    }
}

const CHAT_SELECT: &str = "SELECT channel, chat_id, state_json, conversation_id, last_sent_id FROM channel_chats";

fn chat_from_row(r: &sqlx::any::AnyRow) -> Result<Chat, sqlx::Error> {
    Ok(Chat {
        channel: r.try_get("channel")?,
        chat_id: r.try_get("chat_id")?,
        state_json: r.try_get("state_json")?,
        conversation_id: r.try_get("conversation_id")?,
        last_sent_id: r.try_get("last_sent_id")?,
    })
}
