//! The handoff contract between the widget and the escalation server: the typed bodies of the
//! visitor API, their validation, and the delivery of a request as a sans-IO state machine.
//!
//! This module is the one owner of that contract. The core builds an [`EscalationRequest`]
//! (`escalation::build_payload`, above this module), the binding hands it to the widget, and the server
//! (`crates/sottovoce-server`) deserializes the same type and checks it with the same
//! [`EscalationRequest::validate`]. `crates/sottovoce-server/openapi.json` and the TypeScript
//! types the npm package ships are checked against these types by
//! `crates/sottovoce-server/tests/contract.rs`.
//!
//! It sits low in the core: it depends on serde only (and `serde_json::Value` for profile
//! values), never on the dialogue or the state, so anything above can use it.
//!
//! The wire format is the one the server has always spoken: authors and statuses are lower-case
//! strings (`visitor`, `bot`, `agent`; `open`, `resolved`), times are ms since the Unix epoch.

pub mod delivery;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest message text accepted, in characters (Unicode scalar values).
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most transcript messages one escalation may carry.
pub const MAX_TRANSCRIPT: usize = 500;
/// Longest intent name, in bytes; an intent is 1 to this many bytes.
pub const MAX_INTENT_LEN: usize = 100;
/// Shortest idempotency key, in bytes (printable ASCII).
pub const MIN_IDEMPOTENCY_KEY_LEN: usize = 16;
/// Longest idempotency key, in bytes (printable ASCII).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;
/// Longest BCP 47 locale tag, in bytes.
pub const MAX_LOCALE_LEN: usize = 35;
/// Longest bot id, in bytes.
pub const MAX_BOT_ID_LEN: usize = 100;
/// Longest page URL, in bytes.
pub const MAX_PAGE_URL_LEN: usize = 2000;
/// Longest string profile value, in characters.
pub const MAX_PROFILE_TEXT_CHARS: usize = 500;
/// Longest `client_id` of a visitor message, in bytes.
pub const MAX_CLIENT_ID_LEN: usize = 100;
/// Every profile field the core knows how to send (the fields of `state::Profile`).
/// `customer_id` is the logged-in customer's id (`identify`); it travels as
/// [`EscalationRequest::customer`], with the site's `user_hash` when there is one.
pub const PROFILE_FIELDS: [&str; 6] = ["name", "locale", "visits", "first_seen_ms", "last_seen_ms", CUSTOMER_ID_FIELD];
/// The profile field an owner lists to let the customer id (and its `user_hash`) leave the
/// browser inside a consented escalation.
pub const CUSTOMER_ID_FIELD: &str = "customer_id";
/// Profile fields named `traits.<key>` carry the trait `<key>` the site gave with `identify()`
/// (`traits.tier` = `gold`), when the owner lists them; the escalation server orders its inbox
/// by one of them (`--tier-field`).
pub const TRAIT_FIELD_PREFIX: &str = "traits.";
/// Longest customer id, in bytes.
pub const MAX_CUSTOMER_ID_LEN: usize = 200;
/// Longest `user_hash` accepted, in bytes (a right one is HMAC-SHA256 in hex: 64).
pub const MAX_USER_HASH_LEN: usize = 200;

/// True when `id` can travel as a [`CustomerIdentity::id`]: 1 to [`MAX_CUSTOMER_ID_LEN`] bytes.
pub fn customer_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CUSTOMER_ID_LEN
}
/// Profile fields sent when the owner lists none.
pub const DEFAULT_PROFILE_FIELDS: [&str; 3] = ["name", "locale", "visits"];

/// Who wrote a message: the visitor, the bot, or a human agent. On the wire: `visitor`, `bot`,
/// `agent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The person chatting.
    Visitor,
    /// The bot.
    Bot,
    /// A human support agent (escalation).
    Agent,
}

impl Author {
    /// Every author, in wire order.
    pub const ALL: [Author; 3] = [Author::Visitor, Author::Bot, Author::Agent];

    /// The wire name (`visitor`, `bot`, `agent`).
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Visitor => "visitor",
            Author::Bot => "bot",
            Author::Agent => "agent",
        }
    }

    /// The author with this wire name, if any.
    pub fn from_name(name: &str) -> Option<Author> {
        Author::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// Where a conversation stands on the server. On the wire: `open`, `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Waiting for, or talking with, an agent.
    #[default]
    Open,
    /// An agent closed it; the visitor must start a new one.
    Resolved,
}

impl ConversationStatus {
    /// Every status, in wire order.
    pub const ALL: [ConversationStatus; 2] = [ConversationStatus::Open, ConversationStatus::Resolved];

    /// The wire name (`open`, `resolved`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Resolved => "resolved",
        }
    }

    /// The status with this wire name, if any.
    pub fn from_name(name: &str) -> Option<ConversationStatus> {
        ConversationStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// One message of the transcript the visitor agrees to send (`visitor` or `bot`), redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptMessage {
    /// `visitor` or `bot` (an `agent` message is refused by [`EscalationRequest::validate`]).
    pub author: Author,
    /// Plain text, 1 to [`MAX_TEXT_CHARS`] characters, not only white space.
    pub text: String,
    /// When it was said, ms since the Unix epoch; the server uses its own clock when absent or
    /// in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// For visitor messages: the intent the bot recognised (1 to [`MAX_INTENT_LEN`] bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// For visitor messages: the bot's confidence in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// For visitor messages: sentiment in [-1, 1] (negative is unhappy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f64>,
}

/// The body of `POST /api/escalations`: what the visitor is shown and agrees to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRequest {
    /// The idempotency key, when not sent as the `Idempotency-Key` header (the widget uses the
    /// header and leaves this out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The conversation's locale (BCP 47, at most [`MAX_LOCALE_LEN`] bytes).
    pub locale: String,
    /// The bot's id (at most [`MAX_BOT_ID_LEN`] bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<String>,
    /// The page the visitor escalated from (`http(s)`, at most [`MAX_PAGE_URL_LEN`] bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// Allowed profile fields only: name → string (at most [`MAX_PROFILE_TEXT_CHARS`]
    /// characters), number, boolean or null.
    #[serde(default)]
    pub profile: BTreeMap<String, serde_json::Value>,
    /// Visitor and bot messages, oldest first, redacted; 1 to [`MAX_TRANSCRIPT`].
    pub transcript: Vec<TranscriptMessage>,
    /// The logged-in customer, when the owner allows [`CUSTOMER_ID_FIELD`] and the site called
    /// `identify`. A receiver that does not list [`CUSTOMER_ID_FIELD`] drops it rather than
    /// refusing the escalation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerIdentity>,
}

/// Who the site says the visitor is: its customer id and, when the site vouches for it, the
/// `user_hash` the escalation server verifies (identity verification as Intercom and Chatwoot
/// do it: HMAC-SHA256 of the id under a secret the site and the server share).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerIdentity {
    /// The site's customer id (1 to [`MAX_CUSTOMER_ID_LEN`] bytes).
    pub id: String,
    /// HMAC-SHA256(identity secret, `id`) in hex (64 characters), if given; at most
    /// [`MAX_USER_HASH_LEN`] bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
}

/// The answer to `POST /api/escalations`: 201 when stored now, 200 with the same body for a
/// retry with the same idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationCreated {
    /// Conversation id (`c_` + 32 hex digits).
    pub id: String,
    /// The visitor's bearer token for this conversation (64 hex digits).
    pub token: String,
    /// The conversation's status now.
    pub status: ConversationStatus,
    /// When it was created, ms since the Unix epoch.
    pub created_ms: i64,
}

/// The body of `POST /api/escalations/{id}/messages`: the visitor writes to the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitorMessage {
    /// Plain text, 1 to [`MAX_TEXT_CHARS`] characters.
    pub text: String,
    /// The client's id for this message (1 to [`MAX_CLIENT_ID_LEN`] bytes), so a retried send
    /// is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The intent the bot recognised, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// The bot's confidence in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Sentiment in [-1, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f64>,
}

/// One stored message, as the server returns it (lists, the SSE `message` event, webhooks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Increasing id, unique across conversations; also the SSE event id.
    pub id: i64,
    /// Who wrote it.
    pub author: Author,
    /// The agent's display name for agent messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Plain text (never HTML).
    pub text: String,
    /// Milliseconds since the Unix epoch (for transcript messages: when the widget recorded it).
    pub created_ms: i64,
    /// The bot's intent for a visitor message, if it found one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// The bot's confidence in that intent, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Sentiment of a visitor message in [-1, 1] (negative is unhappy), if the widget scored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f64>,
}

/// Most intents one KPI report may name.
pub const MAX_KPI_INTENTS: usize = 64;
/// Most ratings, messages or other counts one conversation's KPI report may hold.
pub const MAX_KPI_COUNT: u32 = 10_000;

/// How a conversation ended, read from its transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The bot answered and the visitor neither asked for a person nor left on a fallback.
    Contained,
    /// The visitor asked for a person (an intent whose action is `handoff`), or an agent wrote.
    Escalated,
    /// The visitor's last message went unanswered (a fallback) and no person was asked for.
    Abandoned,
}

/// What one conversation measured. `outcome` is `None` while the visitor has said nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationKpis {
    /// The conversation's locale (the profile's).
    pub locale: String,
    /// How it ended, `None` before the visitor's first message.
    pub outcome: Option<Outcome>,
    /// Visitor messages.
    pub messages: u32,
    /// Visitor messages the fallback answered (`TranscriptEntry::fallback`).
    pub fallbacks: u32,
    /// Suggestions of a fallback ("did you mean …?") the visitor pressed next.
    pub picks: u32,
    /// Satisfaction ratings given, 1 to 5, oldest first.
    pub csat: Vec<u8>,
    /// Intents acted on, with how often.
    pub intents: BTreeMap<String, u32>,
    /// Milliseconds from the visitor's first message to the first bot or agent message after
    /// it (by the caller's clock, as stored in the transcript); `None` when unanswered.
    pub first_answer_ms: Option<u64>,
}

/// One conversation's key figures as the widget sends them to `POST /api/kpis`, only when the
/// owner turned reporting on: counts, intent names and a rating, never a visitor's words. `id`
/// is random per conversation (a new one after "forget me" or a reset), so a later report of the
/// same conversation replaces the earlier one instead of counting twice, and nothing links two
/// conversations or a conversation to an escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiReport {
    /// [`MIN_IDEMPOTENCY_KEY_LEN`] to [`MAX_IDEMPOTENCY_KEY_LEN`] printable ASCII characters.
    pub id: String,
    /// The conversation's figures.
    pub kpis: ConversationKpis,
}

impl KpiReport {
    /// Checks the report: the id, the locale (a tag of letters, digits and hyphens), counts up to [`MAX_KPI_COUNT`], at most
    /// [`MAX_KPI_INTENTS`] intents with valid names, ratings 1 to 5, and an outcome once the
    /// visitor wrote.
    ///
    /// # Errors
    /// [`Invalid`] naming the field (`kpis.csat[3]`).
    pub fn validate(&self) -> Result<(), Invalid> {
        if !idempotency_key_ok(&self.id) {
            return Err(Invalid::new("id", format!("must be {MIN_IDEMPOTENCY_KEY_LEN} to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters")));
        }
        let k = &self.kpis;
        if !locale_ok(&k.locale) {
            return Err(Invalid::new("kpis.locale", format!("must be a language tag of 1 to {MAX_LOCALE_LEN} letters, digits and hyphens")));
        }
        for (field, n) in [("kpis.messages", k.messages), ("kpis.fallbacks", k.fallbacks), ("kpis.picks", k.picks)] {
            if n > MAX_KPI_COUNT {
                return Err(Invalid::new(field, format!("must be at most {MAX_KPI_COUNT}")));
            }
        }
        if k.fallbacks > k.messages || k.picks > k.messages {
            return Err(Invalid::new("kpis.fallbacks", "fallbacks and picks cannot exceed messages"));
        }
        if k.messages > 0 && k.outcome.is_none() {
            return Err(Invalid::new("kpis.outcome", "is required once the visitor wrote"));
        }
        if k.csat.len() > MAX_KPI_COUNT as usize {
            return Err(Invalid::new("kpis.csat", format!("must hold at most {MAX_KPI_COUNT} ratings")));
        }
        if let Some(i) = k.csat.iter().position(|r| !(1..=5).contains(r)) {
            return Err(Invalid::new(format!("kpis.csat[{i}]"), "must be 1 to 5"));
        }
        if k.intents.len() > MAX_KPI_INTENTS {
            return Err(Invalid::new("kpis.intents", format!("must name at most {MAX_KPI_INTENTS} intents")));
        }
        if let Some((name, _)) = k.intents.iter().find(|(name, n)| !intent_ok(name) || **n == 0 || **n > MAX_KPI_COUNT) {
            return Err(Invalid::new(format!("kpis.intents.{name}"), format!("needs a name of 1 to {MAX_INTENT_LEN} bytes and a count of 1 to {MAX_KPI_COUNT}")));
        }
        Ok(())
    }
}

/// Longest question a visitor may share to improve the bot, in characters.
pub const MAX_SHARED_CHARS: usize = 500;

/// A question the visitor explicitly agreed to send to the shop to improve the bot
/// (`POST /api/feedback`), redacted like an escalation: the text the bot could not answer, its
/// locale, and the intent of the suggestion the visitor then picked, if they did. Nothing else:
/// no profile, no conversation, no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedQuestion {
    /// A random key per question ([`idempotency_key_ok`]): a retry is stored once.
    pub id: String,
    /// The conversation's locale.
    pub locale: String,
    /// The visitor's words, redacted, 1 to [`MAX_SHARED_CHARS`] characters.
    pub text: String,
    /// The intent of the "did you mean" suggestion the visitor picked after it; absent when
    /// they picked none (the question went unmatched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
}

impl SharedQuestion {
    /// Checks the id, the locale (a tag of letters, digits and hyphens), the text's length and
    /// the intent's name.
    ///
    /// # Errors
    /// [`Invalid`] naming the field.
    pub fn validate(&self) -> Result<(), Invalid> {
        key_and_locale(&self.id, &self.locale)?;
        if self.text.trim().is_empty() || self.text.chars().count() > MAX_SHARED_CHARS {
            return Err(Invalid::new("text", format!("must have 1 to {MAX_SHARED_CHARS} characters")));
        }
        if self.intent.as_deref().is_some_and(|i| !intent_ok(i)) {
            return Err(Invalid::new("intent", format!("must have 1 to {MAX_INTENT_LEN} bytes")));
        }
        Ok(())
    }
}

/// True for a language tag the server accepts: 1 to [`MAX_LOCALE_LEN`] ASCII letters, digits
/// and hyphens.
pub fn locale_ok(locale: &str) -> bool {
    !locale.is_empty() && locale.len() <= MAX_LOCALE_LEN && locale.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The checks every visitor-sent record without a token shares: its random `id`
/// ([`idempotency_key_ok`]) and its `locale` ([`locale_ok`]).
fn key_and_locale(id: &str, locale: &str) -> Result<(), Invalid> {
    if !idempotency_key_ok(id) {
        return Err(Invalid::new("id", format!("must be {MIN_IDEMPOTENCY_KEY_LEN} to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters")));
    }
    if !locale_ok(locale) {
        return Err(Invalid::new("locale", format!("must be a language tag of 1 to {MAX_LOCALE_LEN} letters, digits and hyphens")));
    }
    Ok(())
}

/// What a finished form with `submit` asks to send to the shop (issue 20 items 3 and 5). On
/// the wire: `lead`, `newsletter`, `back_in_stock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    /// A sales lead: what, when, budget and how to reach the visitor; listed in the inbox.
    Lead,
    /// A newsletter sign-up.
    Newsletter,
    /// A request to be told when a product is back in stock.
    BackInStock,
}

impl SubmissionKind {
    /// Every kind, in wire order.
    pub const ALL: [SubmissionKind; 3] = [SubmissionKind::Lead, SubmissionKind::Newsletter, SubmissionKind::BackInStock];

    /// The wire name (`lead`, `newsletter`, `back_in_stock`).
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionKind::Lead => "lead",
            SubmissionKind::Newsletter => "newsletter",
            SubmissionKind::BackInStock => "back_in_stock",
        }
    }

    /// The fields a submission of this kind must have: an `email` for each (how the shop
    /// answers), and the `product` for a back-in-stock request.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            SubmissionKind::Lead | SubmissionKind::Newsletter => &["email"],
            SubmissionKind::BackInStock => &["email", "product"],
        }
    }
}

/// Most fields one submission may carry.
pub const MAX_SUBMISSION_FIELDS: usize = 16;
/// Longest field name, in bytes (`[a-z0-9_]`).
pub const MAX_FIELD_NAME_LEN: usize = 40;
/// Longest field value, in characters.
pub const MAX_FIELD_CHARS: usize = 500;

/// The body of `POST /api/submissions`: a finished form's slots the visitor explicitly agreed
/// to send, shown to them first exactly as here. The server stores it and hands it to the
/// shop as a signed webhook (`lead.created`, `newsletter.subscribed`,
/// `back_in_stock.requested`); leads are listed in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// A random key per submission ([`idempotency_key_ok`]): a retry is stored once.
    pub id: String,
    /// What it is.
    pub kind: SubmissionKind,
    /// The conversation's locale (the shop answers in it).
    pub locale: String,
    /// The form's slots: name → value, 1 to [`MAX_SUBMISSION_FIELDS`], names of 1 to
    /// [`MAX_FIELD_NAME_LEN`] bytes of `[a-z0-9_]`, values of 1 to [`MAX_FIELD_CHARS`]
    /// characters; [`SubmissionKind::required`] ones present, `email` an address.
    pub fields: BTreeMap<String, String>,
}

impl Submission {
    /// Checks every field as its doc says.
    ///
    /// # Errors
    /// [`Invalid`] naming the field (`fields.email`).
    pub fn validate(&self) -> Result<(), Invalid> {
        key_and_locale(&self.id, &self.locale)?;
        if self.fields.len() > MAX_SUBMISSION_FIELDS {
            return Err(Invalid::new("fields", format!("must have at most {MAX_SUBMISSION_FIELDS} entries")));
        }
        for (name, value) in &self.fields {
            if name.is_empty() || name.len() > MAX_FIELD_NAME_LEN || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return Err(Invalid::new(format!("fields.{name}"), format!("names must be 1 to {MAX_FIELD_NAME_LEN} of a-z, 0-9 and _")));
            }
            if value.trim().is_empty() || value.chars().count() > MAX_FIELD_CHARS {
                return Err(Invalid::new(format!("fields.{name}"), format!("must have 1 to {MAX_FIELD_CHARS} characters")));
            }
        }
        for name in self.kind.required() {
            if !self.fields.contains_key(*name) {
                return Err(Invalid::new(format!("fields.{name}"), format!("is required for a {} submission", self.kind.as_str())));
            }
        }
        if let Some(email) = self.fields.get("email") {
            let parts = email.split_once('@');
            let ok = parts.is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
                && !email.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(Invalid::new("fields.email", "must be an email address"));
            }
        }
        Ok(())
    }
}

/// A field of a request that breaks the contract: the server answers 422 with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct Invalid {
    /// The JSON path of the field (`transcript[2].intent`).
    pub field: String,
    /// What is wrong, as a sentence fragment (`must have 1 to 100 characters`).
    pub message: String,
}

impl Invalid {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid { field: field.into(), message: message.into() }
    }
}

/// True for an idempotency key of [`MIN_IDEMPOTENCY_KEY_LEN`] to [`MAX_IDEMPOTENCY_KEY_LEN`]
/// printable ASCII characters (e.g. `crypto.randomUUID()`).
pub fn idempotency_key_ok(key: &str) -> bool {
    (MIN_IDEMPOTENCY_KEY_LEN..=MAX_IDEMPOTENCY_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// True for an intent name of 1 to [`MAX_INTENT_LEN`] bytes.
pub fn intent_ok(intent: &str) -> bool {
    !intent.is_empty() && intent.len() <= MAX_INTENT_LEN
}

/// Checks an idempotency key.
///
/// # Errors
/// [`Invalid`] on `idempotency_key` unless [`idempotency_key_ok`].
pub fn validate_idempotency_key(key: &str) -> Result<(), Invalid> {
    if idempotency_key_ok(key) {
        Ok(())
    } else {
        Err(Invalid::new(
            "idempotency_key",
            format!("must be {MIN_IDEMPOTENCY_KEY_LEN} to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters"),
        ))
    }
}

/// Checks a message text: not only white space, at most [`MAX_TEXT_CHARS`] characters.
///
/// # Errors
/// [`Invalid`] on `field`.
pub fn validate_text(field: &str, text: &str) -> Result<(), Invalid> {
    if text.trim().is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Invalid::new(field, format!("longer than {MAX_TEXT_CHARS} characters")));
    }
    Ok(())
}

/// Checks the bot's annotations of a message under `field`: intent length, confidence in
/// [0, 1], sentiment in [-1, 1].
///
/// # Errors
/// [`Invalid`] on `<field>.intent`, `<field>.confidence` or `<field>.sentiment`.
pub fn validate_annotations(field: &str, intent: Option<&str>, confidence: Option<f64>, sentiment: Option<f64>) -> Result<(), Invalid> {
    if intent.is_some_and(|i| !intent_ok(i)) {
        return Err(Invalid::new(format!("{field}.intent"), format!("must have 1 to {MAX_INTENT_LEN} characters")));
    }
    if confidence.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
        return Err(Invalid::new(format!("{field}.confidence"), "must be between 0 and 1"));
    }
    if sentiment.is_some_and(|s| !(-1.0..=1.0).contains(&s)) {
        return Err(Invalid::new(format!("{field}.sentiment"), "must be between -1 and 1"));
    }
    Ok(())
}

impl TranscriptMessage {
    /// Checks one message at `field` (`transcript[3]`): author `visitor` or `bot`, text, and
    /// annotations.
    ///
    /// # Errors
    /// [`Invalid`] naming the first bad field.
    pub fn validate(&self, field: &str) -> Result<(), Invalid> {
        if self.author == Author::Agent {
            return Err(Invalid::new(format!("{field}.author"), "must be `visitor` or `bot`"));
        }
        validate_text(&format!("{field}.text"), &self.text)?;
        validate_annotations(field, self.intent.as_deref(), self.confidence, self.sentiment)
    }
}

impl EscalationRequest {
    /// Checks the whole request against the contract; `allowed_profile_fields` are the profile
    /// fields the receiver accepts (the server's configuration).
    ///
    /// # Errors
    /// [`Invalid`] naming the first bad field, in document order.
    pub fn validate<S: AsRef<str>>(&self, allowed_profile_fields: &[S]) -> Result<(), Invalid> {
        if let Some(key) = &self.idempotency_key {
            validate_idempotency_key(key)?;
        }
        let locale = &self.locale;
        if !locale_ok(locale) {
            return Err(Invalid::new("locale", "must be a BCP 47 tag such as `en` or `es-MX`"));
        }
        if self.bot_id.as_ref().is_some_and(|b| b.len() > MAX_BOT_ID_LEN) {
            return Err(Invalid::new("bot_id", format!("longer than {MAX_BOT_ID_LEN} characters")));
        }
        if let Some(url) = &self.page_url {
            let lower = url.to_ascii_lowercase();
            if url.len() > MAX_PAGE_URL_LEN || !(lower.starts_with("http://") || lower.starts_with("https://")) {
                return Err(Invalid::new("page_url", format!("must be an http(s) URL of at most {MAX_PAGE_URL_LEN} characters")));
            }
        }
        for (name, value) in &self.profile {
            if !allowed_profile_fields.iter().any(|f| f.as_ref() == name) {
                let allowed: Vec<&str> = allowed_profile_fields.iter().map(AsRef::as_ref).collect();
                return Err(Invalid::new(
                    format!("profile.{name}"),
                    format!("is not a profile field this server accepts (allowed: {})", allowed.join(", ")),
                ));
            }
            let ok = match value {
                serde_json::Value::String(text) => text.chars().count() <= MAX_PROFILE_TEXT_CHARS,
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) | serde_json::Value::Null => true,
                _ => false,
            };
            if !ok {
                return Err(Invalid::new(
                    format!("profile.{name}"),
                    format!("must be a string of at most {MAX_PROFILE_TEXT_CHARS} characters, a number or a boolean"),
                ));
            }
        }
        if let Some(customer) = &self.customer {
            if !customer_id_ok(&customer.id) {
                return Err(Invalid::new("customer.id", format!("must be 1 to {MAX_CUSTOMER_ID_LEN} bytes")));
            }
            // A wrong or malformed hash never refuses the visitor's message: the server marks
            // the escalation unverified. Only its size is bounded.
            if customer.user_hash.as_ref().is_some_and(|h| h.len() > MAX_USER_HASH_LEN) {
                return Err(Invalid::new("customer.user_hash", format!("longer than {MAX_USER_HASH_LEN} bytes")));
            }
        }
        if self.transcript.is_empty() || self.transcript.len() > MAX_TRANSCRIPT {
            return Err(Invalid::new("transcript", format!("must hold 1 to {MAX_TRANSCRIPT} messages")));
        }
        for (i, m) in self.transcript.iter().enumerate() {
            m.validate(&format!("transcript[{i}]"))?;
        }
        Ok(())
    }
}

impl VisitorMessage {
    /// Checks text, annotations and `client_id`.
    ///
    /// # Errors
    /// [`Invalid`] naming the first bad field.
    pub fn validate(&self) -> Result<(), Invalid> {
        validate_text("text", &self.text)?;
        validate_annotations("message", self.intent.as_deref(), self.confidence, self.sentiment)?;
        if self.client_id.as_ref().is_some_and(|c| c.is_empty() || c.len() > MAX_CLIENT_ID_LEN) {
            return Err(Invalid::new("client_id", format!("must have 1 to {MAX_CLIENT_ID_LEN} characters")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (case, request JSON, expected invalid field or `None` for valid). The same rules the
    /// server fixture `tests/fixtures/invalid-escalations.json` exercises over HTTP.
    const CASES: &[(&str, &str, Option<&str>)] = &[
        ("minimal", r#"{"locale":"en","transcript":[{"author":"visitor","text":"hi"}]}"#, None),
        ("annotated", r#"{"locale":"es-MX","bot_id":"shop","page_url":"https://shop.example/a","profile":{"name":"Ana","visits":2},"transcript":[{"author":"visitor","text":"hola","at_ms":5,"intent":"greet","confidence":1,"sentiment":-1},{"author":"bot","text":"¡Hola!"}]}"#, None),
        ("agent in transcript", r#"{"locale":"en","transcript":[{"author":"agent","text":"hi"}]}"#, Some("transcript[0].author")),
        ("short key", r#"{"locale":"en","idempotency_key":"abc","transcript":[{"author":"visitor","text":"hi"}]}"#, Some("idempotency_key")),
        ("key with a space", r#"{"locale":"en","idempotency_key":"0123456789 abcdef","transcript":[{"author":"visitor","text":"hi"}]}"#, Some("idempotency_key")),
        ("empty intent", r#"{"locale":"en","transcript":[{"author":"visitor","text":"hi","intent":""}]}"#, Some("transcript[0].intent")),
        ("empty transcript", r#"{"locale":"en","transcript":[]}"#, Some("transcript")),
        ("blank text", r#"{"locale":"en","transcript":[{"author":"bot","text":" "}]}"#, Some("transcript[0].text")),
        ("bad locale", r#"{"locale":"en_US","transcript":[{"author":"bot","text":"hi"}]}"#, Some("locale")),
        ("ftp page", r#"{"locale":"en","page_url":"ftp://x","transcript":[{"author":"bot","text":"hi"}]}"#, Some("page_url")),
        ("unknown profile field", r#"{"locale":"en","profile":{"email":"a@b.c"},"transcript":[{"author":"bot","text":"hi"}]}"#, Some("profile.email")),
        ("object profile value", r#"{"locale":"en","profile":{"name":{}},"transcript":[{"author":"bot","text":"hi"}]}"#, Some("profile.name")),
        ("verified customer", r#"{"locale":"en","customer":{"id":"c-42","user_hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"transcript":[{"author":"bot","text":"hi"}]}"#, None),
        ("customer without hash", r#"{"locale":"en","customer":{"id":"c-42"},"transcript":[{"author":"bot","text":"hi"}]}"#, None),
        ("empty customer id", r#"{"locale":"en","customer":{"id":""},"transcript":[{"author":"bot","text":"hi"}]}"#, Some("customer.id")),
        ("wrong user hash is the server's to judge", r#"{"locale":"en","customer":{"id":"c-42","user_hash":"abc"},"transcript":[{"author":"bot","text":"hi"}]}"#, None),
        ("confidence above 1", r#"{"locale":"en","transcript":[{"author":"visitor","text":"hi","confidence":1.01}]}"#, Some("transcript[0].confidence")),
    ];

    #[test]
    fn requests_are_checked_field_by_field() {
        for (case, json, expected) in CASES {
            let request: EscalationRequest = serde_json::from_str(json).unwrap_or_else(|e| panic!("{case}: {e}"));
            let got = request.validate(&PROFILE_FIELDS).err().map(|e| e.field);
            assert_eq!(got.as_deref(), *expected, "{case}");
        }
        let long = "x".repeat(MAX_INTENT_LEN + 1);
        assert!(!intent_ok(&long) && intent_ok(&long[1..]));
        assert!(idempotency_key_ok("key-0123456789abcdef") && !idempotency_key_ok(&"k".repeat(201)));
    }

    #[test]
    fn enums_speak_the_old_wire_strings() {
        for a in Author::ALL {
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{}\"", a.as_str()));
            assert_eq!(Author::from_name(a.as_str()), Some(a));
        }
        for s in ConversationStatus::ALL {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
            assert_eq!(ConversationStatus::from_name(s.as_str()), Some(s));
        }
        assert_eq!(Author::from_name("admin"), None);
        let unknown = serde_json::from_str::<EscalationRequest>(r#"{"locale":"en","tokens":1,"transcript":[]}"#).unwrap_err();
        assert!(unknown.to_string().contains("unknown field `tokens`"), "{unknown}");
    }
}
