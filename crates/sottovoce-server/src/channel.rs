//! Messaging channels: where no browser exists, the server runs the same bot definition itself
//! (the pure core's [`sottovoce::Bot`], nothing re-implemented) behind the [`Channel`] trait.
//!
//! Two channels: a generic JSON webhook ([`JsonChannel`], HMAC-SHA256 signed both ways) and the
//! Telegram Bot API webhook format ([`TelegramChannel`]: the `X-Telegram-Bot-Api-Secret-Token`
//! header set with `setWebhook`'s `secret_token`, replies through `sendMessage`; see
//! <https://core.telegram.org/bots/api#setwebhook>). The bot's state is kept per chat in the
//! database; when the bot hands off, the chat becomes an escalation in the same inbox (its
//! `channel` shown), the chat's messages go to it, and agent replies go back to the chat until
//! the agent resolves it.
//!
//! Privacy differs from the widget: on a channel the visitor's text passes through the
//! platform and this server, and the bot's state is stored here, not in the visitor's browser.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};
use sottovoce::protocol::{Author, ConversationStatus};
use sottovoce::{Bot, BotMessage, ConversationState, Input, TurnContext};

use crate::api::{constant_time_eq, random_hex, sha256_hex};
use crate::error::AppError;
use crate::event::EventKind;
use crate::omni_store::Chat;
use crate::store::{now_ms, NewConversation, NewMessage};
use crate::AppState;

/// Why a channel refused a request or could not send.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// The body is not the platform's format.
    #[error("not a {channel} update: {message}")]
    Format {
        /// The channel.
        channel: &'static str,
        /// What was wrong.
        message: String,
    },
    /// Sending failed (network, or the platform said no).
    #[error("sending to {channel} failed: {message}")]
    Send {
        /// The channel.
        channel: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// One message a visitor wrote on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The platform's chat id (as text).
    pub chat_id: String,
    /// The text.
    pub text: String,
    /// The language the platform reports for the sender (BCP 47), if any.
    pub locale_hint: Option<String>,
}

/// A messaging platform: checks and reads its webhook requests, and sends text to a chat.
pub trait Channel: Send + Sync {
    /// The name used in the URL (`/api/channels/{name}`) and shown in the inbox.
    fn name(&self) -> &'static str;
    /// Whether the request carries the platform's proof (signature or secret header).
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> bool;
    /// The message in a webhook body; `Ok(None)` for an update that is not a text message.
    ///
    /// # Errors
    /// [`ChannelError::Format`] for a body that is not the platform's format.
    fn parse(&self, body: &[u8]) -> Result<Option<Incoming>, ChannelError>;
    /// Sends `text` to `chat_id`.
    fn send<'a>(&'a self, chat_id: &'a str, text: &'a str) -> BoxFuture<'a, Result<(), ChannelError>>;
}

/// The generic JSON webhook: in, `POST /api/channels/json` with `{chat_id, text, locale?}` and
/// `X-Sottovoce-Signature: sha256=<hex HMAC-SHA256 of the body>`; out, the same header on
/// `POST <reply_url>` with `{chat_id, text}`.
#[derive(Clone)]
pub struct JsonChannel {
    /// The shared secret of both directions.
    pub secret: String,
    /// Where replies are posted.
    pub reply_url: String,
    /// The HTTP client.
    pub client: reqwest::Client,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonIn {
    chat_id: String,
    text: String,
    #[serde(default)]
    locale: Option<String>,
}

impl Channel for JsonChannel {
    fn name(&self) -> &'static str {
        "json"
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> bool {
        let given = headers.get("x-sottovoce-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
        constant_time_eq(&crate::webhook::sign(self.secret.as_bytes(), body), given)
    }

    fn parse(&self, body: &[u8]) -> Result<Option<Incoming>, ChannelError> {
        let m: JsonIn = serde_json::from_slice(body).map_err(|e| ChannelError::Format { channel: "json", message: e.to_string() })?;
        Ok(Some(Incoming { chat_id: m.chat_id, text: m.text, locale_hint: m.locale }))
    }

    fn send<'a>(&'a self, chat_id: &'a str, text: &'a str) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let body = json!({ "chat_id": chat_id, "text": text }).to_string();
            let err = |message: String| ChannelError::Send { channel: "json", message };
            let response = self
                .client
                .post(&self.reply_url)
                .header("content-type", "application/json")
                .header("x-sottovoce-signature", crate::webhook::sign(self.secret.as_bytes(), body.as_bytes()))
                .body(body)
                .send()
                .await
                .map_err(|e| err(e.to_string()))?;
            response.error_for_status().map(|_| ()).map_err(|e| err(e.to_string()))
        })
    }
}

/// The Telegram Bot API: updates POSTed by Telegram to `/api/channels/telegram`, replies with
/// `POST <api_base>/bot<token>/sendMessage` `{chat_id, text}`, answered `{"ok": true, …}`.
#[derive(Clone)]
pub struct TelegramChannel {
    /// The bot token from BotFather.
    pub token: String,
    /// The `secret_token` given to `setWebhook`, echoed in `X-Telegram-Bot-Api-Secret-Token`.
    pub secret_token: String,
    /// `https://api.telegram.org` (a stand-in in tests).
    pub api_base: String,
    /// The HTTP client.
    pub client: reqwest::Client,
}

#[derive(Deserialize)]
struct TgUpdate {
    #[serde(default)]
    message: Option<TgMessage>,
}

#[derive(Deserialize)]
struct TgMessage {
    chat: TgChat,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    from: Option<TgUser>,
}

#[derive(Deserialize)]
struct TgChat {
    id: i64,
}

#[derive(Deserialize)]
struct TgUser {
    #[serde(default)]
    language_code: Option<String>,
}

impl Channel for TelegramChannel {
    fn name(&self) -> &'static str {
        "telegram"
    }

    fn verify(&self, headers: &HeaderMap, _body: &[u8]) -> bool {
        let given = headers.get("x-telegram-bot-api-secret-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        constant_time_eq(&sha256_hex(given.as_bytes()), &sha256_hex(self.secret_token.as_bytes()))
    }

    fn parse(&self, body: &[u8]) -> Result<Option<Incoming>, ChannelError> {
        let update: TgUpdate =
            serde_json::from_slice(body).map_err(|e| ChannelError::Format { channel: "telegram", message: e.to_string() })?;
        Ok(update.message.and_then(|m| {
            let text = m.text?;
            Some(Incoming { chat_id: m.chat.id.to_string(), text, locale_hint: m.from.and_then(|f| f.language_code) })
        }))
    }

    fn send<'a>(&'a self, chat_id: &'a str, text: &'a str) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let err = |message: String| ChannelError::Send { channel: "telegram", message };
            let chat: Value = chat_id.parse::<i64>().map_or_else(|_| json!(chat_id), |n| json!(n));
            let url = format!("{}/bot{}/sendMessage", self.api_base.trim_end_matches('/'), self.token);
            let response = self.client.post(url).json(&json!({ "chat_id": chat, "text": text })).send().await.map_err(|e| err(e.to_string()))?;
            let answer: Value = response.json().await.map_err(|e| err(e.to_string()))?;
            if answer.get("ok") == Some(&Value::Bool(true)) {
                Ok(())
            } else {
                Err(err(answer.get("description").and_then(Value::as_str).unwrap_or("not ok").to_owned()))
            }
        })
    }
}

/// Which channels to run ([`crate::omni::OmniConfig::channels`]); none by default.
#[derive(Debug, Clone, Default)]
pub struct ChannelsConfig {
    /// The generic JSON webhook: `(secret, reply_url)`.
    pub json: Option<(String, String)>,
    /// Telegram: `(bot token, secret_token, api_base)`.
    pub telegram: Option<(String, String, String)>,
}

/// The running channels and the bot they share.
#[derive(Clone)]
pub struct Channels {
    bot: Arc<Mutex<Bot>>,
    list: Vec<Arc<dyn Channel>>,
}

impl Channels {
    /// The configured channels around `bot`; `None` when none is configured.
    pub fn new(config: &ChannelsConfig, bot: Bot) -> Option<Channels> {
        let client = reqwest::Client::new();
        let mut list: Vec<Arc<dyn Channel>> = Vec::new();
        if let Some((secret, reply_url)) = &config.json {
            list.push(Arc::new(JsonChannel { secret: secret.clone(), reply_url: reply_url.clone(), client: client.clone() }));
        }
        if let Some((token, secret_token, api_base)) = &config.telegram {
            list.push(Arc::new(TelegramChannel { token: token.clone(), secret_token: secret_token.clone(), api_base: api_base.clone(), client }));
        }
        (!list.is_empty()).then(|| Channels { bot: Arc::new(Mutex::new(bot)), list })
    }

    fn get(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.list.iter().find(|c| c.name() == name)
    }
}

/// A bot message as plain text: the text, then `• label` per quick reply and `label: url` per
/// link.
pub fn render(message: &BotMessage) -> String {
    let mut text = message.text.clone();
    for q in &message.quick_replies {
        text.push_str(&format!("\n• {}", q.label));
    }
    for link in &message.links {
        text.push_str(&format!("\n{}: {}", link.label, link.url));
    }
    text
}

/// `POST /api/channels/{name}`: a platform's webhook. 401 without its proof, 400 for another
/// format, 404 for a channel not configured; else 200 `{handled, escalated?}` once the replies
/// were sent.
pub(crate) async fn webhook(State(state): State<AppState>, Path(name): Path<String>, headers: HeaderMap, body: Bytes) -> Result<Json<Value>, AppError> {
    let channels = state.inner.channels.as_ref().ok_or(AppError::NotFound("channel"))?;
    let channel = channels.get(&name).ok_or(AppError::NotFound("channel"))?.clone();
    if !channel.verify(&headers, &body) {
        return Err(AppError::Unauthorized("wrong channel signature or secret token"));
    }
    let Some(incoming) = channel.parse(&body).map_err(|e| AppError::BadRequest(e.to_string()))? else {
        return Ok(Json(json!({ "handled": false })));
    };
    if incoming.text.trim().is_empty() || incoming.text.chars().count() > 4000 {
        return Ok(Json(json!({ "handled": false })));
    }
    handle(&state, channels, channel.as_ref(), incoming).await
}

async fn handle(state: &AppState, channels: &Channels, channel: &dyn Channel, incoming: Incoming) -> Result<Json<Value>, AppError> {
    let s = &state.inner;
    let now = now_ms();
    let mut chat = s.store.chat(channel.name(), &incoming.chat_id).await?.unwrap_or_else(|| Chat {
        channel: channel.name().to_owned(),
        chat_id: incoming.chat_id.clone(),
        state_json: String::new(),
        conversation_id: None,
        last_sent_id: 0,
    });
    let text = crate::redact::card_numbers(&incoming.text);
    // A chat handed to a person: its messages go to the agent until the agent resolves it.
    if let Some(id) = chat.conversation_id.clone() {
        if let Some((ConversationStatus::Open, _)) = s.store.conversation_auth(&id).await? {
            s.store.add_message(&id, &NewMessage::new(Author::Visitor, text, now)).await?;
            s.live.publish(&s.store, &id, EventKind::Message).await;
            return Ok(Json(json!({ "handled": true, "escalated": id })));
        }
        chat.conversation_id = None;
    }
    let bot = channels.bot.clone();
    let (state_json, hint, input) = (chat.state_json.clone(), incoming.locale_hint.clone(), incoming.text.clone());
    let (turn, conversation) = tokio::task::spawn_blocking(move || {
        let bot = bot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut conversation = serde_json::from_str::<ConversationState>(&state_json).ok().unwrap_or_else(|| {
            let seed = u64::from_str_radix(&random_hex(8), 16).unwrap_or(1);
            bot.new_state(hint.as_deref().unwrap_or(""), seed, now as u64)
        });
        let turn = bot.respond(&mut conversation, Input::Text { text: input }, TurnContext::utc(now as u64));
        (turn, conversation)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    chat.state_json = serde_json::to_string(&conversation).map_err(|e| AppError::Internal(e.to_string()))?;
    for message in &turn.messages {
        channel.send(&incoming.chat_id, &render(message)).await.map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let mut escalated = None;
    if turn.handoff {
        let id = escalate(state, channel.name(), &conversation, now).await?;
        chat.conversation_id = Some(id.clone());
        chat.last_sent_id = 0;
        escalated = Some(id);
    }
    s.store.save_chat(&chat, now).await?;
    Ok(Json(json!({ "handled": true, "escalated": escalated })))
}

/// Stores a channel chat's conversation as an escalation (transcript redacted, no profile, no
/// customer id: the platform vouches for nobody) and tells the inbox.
async fn escalate(state: &AppState, channel: &str, conversation: &ConversationState, now: i64) -> Result<String, AppError> {
    let s = &state.inner;
    let transcript = conversation
        .transcript
        .iter()
        .filter(|e| !e.text.trim().is_empty())
        .map(|e| NewMessage {
            intent: e.intent.clone(),
            confidence: e.confidence.map(f64::from),
            sentiment: e.sentiment.map(f64::from),
            ..NewMessage::new(if e.from == Author::Visitor { Author::Visitor } else { Author::Bot }, crate::redact::card_numbers(&e.text), now)
        })
        .collect();
    let token = random_hex(32);
    let id = format!("c_{}", random_hex(16));
    let new = NewConversation {
        id: id.clone(),
        locale: conversation.profile.locale.clone(),
        bot_id: Some(conversation.bot_id.clone()),
        page_url: None,
        profile_json: "{}".into(),
        customer_id: None,
        identity: crate::identity::Identity::Unverified,
        token_hash: sha256_hex(token.as_bytes()),
        idem_key_hash: None,
        token_sealed: None,
        body_hash: None,
        created_ms: now,
        transcript,
    };
    s.store.create_conversation(&new).await?;
    s.store.set_channel(&id, channel).await?;
    s.live.publish(&s.store, &id, EventKind::Created).await;
    Ok(id)
}

/// Sends a conversation's agent replies not yet sent to its channel chat; resolving unbinds
/// nothing here (the next message from the chat goes to the bot again).
pub(crate) async fn deliver(state: &AppState, conversation_id: &str) -> Result<(), String> {
    let s = &state.inner;
    let Some(channels) = &s.channels else { return Ok(()) };
    let Some(chat) = s.store.chat_of(conversation_id).await.map_err(|e| e.to_string())? else { return Ok(()) };
    let Some(channel) = channels.get(&chat.channel) else { return Ok(()) };
    let mut mark = chat.last_sent_id;
    for m in s.store.messages_after(conversation_id, mark).await.map_err(|e| e.to_string())? {
        if m.author != Author::Agent {
            continue;
        }
        if !s.store.mark_sent(&chat.channel, &chat.chat_id, mark, m.id).await.map_err(|e| e.to_string())? {
            break;
        }
        if let Err(e) = channel.send(&chat.chat_id, &m.text).await {
            let _ = s.store.mark_sent(&chat.channel, &chat.chat_id, m.id, mark).await;
            return Err(e.to_string());
        }
        mark = m.id;
    }
    Ok(())
}
