//! Handing a conversation to a person: the payload the visitor agrees to send, its redaction,
//! and the delivery status with retries, as pure values and transitions (time comes in).
//!
//! - [`build_payload`](crate::escalation::build_payload) turns a [`ConversationState`](crate::ConversationState) into what the escalation server's
//!   `POST /api/escalations` takes: the transcript (visitor and bot messages, each visitor
//!   message with the bot's intent, confidence and sentiment), only the profile fields the owner
//!   allows ([`Policy::profile_fields`](crate::escalation::Policy::profile_fields)), and the locale. Every text is redacted first: card
//!   numbers (13 to 19 digits, optionally grouped by single spaces or dashes, that pass the Luhn
//!   check) and the owner's own patterns ([`Policy::redact`](crate::escalation::Policy::redact), `regex-lite` syntax).
//! - [`Escalation`](crate::escalation::Escalation) is what the widget keeps (in `localStorage`) between consent and the agent's
//!   last word: the payload, the idempotency key, the [`Status`](crate::escalation::Status), visitor messages not yet
//!   delivered to the agent, and the last server event seen. Retries back off exponentially
//!   (1 s, 2 s, 4 s … capped at 60 s) with "equal jitter" (half the delay fixed, half random,
//!   from the escalation's own SplitMix64 stream seeded from the conversation's RNG), as in
//!   AWS's "Exponential Backoff And Jitter" (2015).

use std::collections::BTreeMap;

use regex_lite::Regex;
use serde::{Deserialize, Serialize};

use crate::state::{ConversationState, Speaker};

/// First retry delay, in ms.
pub const BACKOFF_BASE_MS: u64 = 1_000;
/// Longest retry delay, in ms.
pub const BACKOFF_MAX_MS: u64 = 60_000;
/// A send still marked in flight after this long (the page was closed mid-send) is due again.
pub const STALE_SEND_MS: u64 = 30_000;
/// What a card number becomes.
pub const CARD_LABEL: &str = "[redacted card number]";
/// What an owner-listed pattern's match becomes.
pub const PATTERN_LABEL: &str = "[redacted]";
/// Profile fields sent when the owner lists none.
pub const DEFAULT_PROFILE_FIELDS: [&str; 3] = ["name", "locale", "visits"];

/// Why an escalation could not be prepared or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EscalationError {
    /// An owner-listed redaction pattern is not a valid regular expression.
    #[error("redaction pattern {index} ({pattern:?}) is invalid: {message}")]
    Pattern {
        /// Position in [`Policy::redact`].
        index: usize,
        /// The pattern as given.
        pattern: String,
        /// The regex parser's message.
        message: String,
    },
    /// There is nothing to send (no visitor or bot message).
    #[error("the conversation is empty; there is nothing to send")]
    Empty,
    /// The idempotency key is not 16 to 200 printable ASCII characters.
    #[error("the idempotency key must be 16 to 200 printable ASCII characters")]
    Key,
    /// The transition does not apply to the current status.
    #[error("cannot {action} an escalation that is {status}")]
    Transition {
        /// What was attempted.
        action: &'static str,
        /// The current status's name.
        status: &'static str,
    },
}

/// What the owner allows to leave the browser.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Profile fields to include (`name`, `locale`, `visits`, `first_seen_ms`, `last_seen_ms`);
    /// empty means [`DEFAULT_PROFILE_FIELDS`].
    #[serde(default)]
    pub profile_fields: Vec<String>,
    /// Extra patterns (regex-lite syntax) whose matches become [`PATTERN_LABEL`].
    #[serde(default)]
    pub redact: Vec<String>,
}

/// A [`Policy`] with its patterns compiled.
#[derive(Debug, Clone)]
pub struct Redactor {
    patterns: Vec<Regex>,
}

impl Redactor {
    /// Compiles the owner's patterns.
    ///
    /// # Errors
    /// [`EscalationError::Pattern`] naming the first invalid pattern.
    pub fn new(patterns: &[String]) -> Result<Redactor, EscalationError> {
        let patterns = patterns
            .iter()
            .enumerate()
            .map(|(index, p)| {
                Regex::new(p).map_err(|e| EscalationError::Pattern {
                    index,
                    pattern: p.clone(),
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Redactor { patterns })
    }

    /// `text` with card numbers, then the owner's patterns, replaced by their labels.
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_cards(text);
        for re in &self.patterns {
            out = re.replace_all(&out, PATTERN_LABEL).into_owned();
        }
        out
    }
}

/// True when the digits pass the Luhn (mod 10) check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// `text` with every card number replaced by [`CARD_LABEL`]: a run of 13 to 19 digits, possibly
/// grouped by single spaces or dashes, not touching other digits, that passes the Luhn check.
/// Within a longer run of groups, the longest qualifying window of whole groups is replaced.
pub fn redact_cards(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A run: digit groups separated by exactly one space or dash.
        let mut groups: Vec<(usize, usize)> = Vec::new(); // [start, end) in chars
        let mut j = i;
        loop {
            let start = j;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            groups.push((start, j));
            if j + 1 < chars.len()
                && (chars[j] == ' ' || chars[j] == '-')
                && chars[j + 1].is_ascii_digit()
            {
                j += 1;
            } else {
                break;
            }
        }
        let run_end = j;
        // Walk the groups, replacing the longest qualifying window starting at each group.
        let mut g = 0;
        let mut copied_to = i;
        while g < groups.len() {
            let mut best: Option<usize> = None;
            let mut digits: Vec<u8> = Vec::new();
            for (h, &(s, e)) in groups.iter().enumerate().skip(g) {
                digits.extend(chars[s..e].iter().map(|c| *c as u8 - b'0'));
                if digits.len() > 19 {
                    break;
                }
                if digits.len() >= 13 && luhn_valid(&digits) {
                    best = Some(h);
                }
            }
            if let Some(h) = best {
                out.extend(&chars[copied_to..groups[g].0]);
                out.push_str(CARD_LABEL);
                copied_to = groups[h].1;
                g = h + 1;
            } else {
                g += 1;
            }
        }
        out.extend(&chars[copied_to..run_end]);
        i = run_end;
    }
    out
}

/// One transcript message as the server takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayloadMessage {
    /// `visitor` or `bot`.
    pub author: String,
    /// Redacted plain text.
    pub text: String,
    /// When it was said, ms since the Unix epoch.
    pub at_ms: u64,
    /// For visitor messages: the intent the bot recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// For visitor messages: the bot's confidence in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// For visitor messages: sentiment in [-1, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f64>,
}

/// The body of `POST /api/escalations` (without the idempotency key, which goes in a header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// The conversation's locale (BCP 47).
    pub locale: String,
    /// The bot's id.
    pub bot_id: String,
    /// Allowed profile fields only: name → string or number.
    pub profile: BTreeMap<String, serde_json::Value>,
    /// Visitor and bot messages, oldest first, redacted.
    pub transcript: Vec<PayloadMessage>,
}

/// Builds what would be sent for `state` under `policy`: redacted transcript with annotations,
/// allowed profile fields, locale. Agent messages (an earlier escalation) are left out.
///
/// # Errors
/// [`EscalationError::Pattern`] for a bad owner pattern, [`EscalationError::Empty`] when there
/// is no message to send.
pub fn build_payload(
    state: &ConversationState,
    policy: &Policy,
) -> Result<Payload, EscalationError> {
    let redactor = Redactor::new(&policy.redact)?;
    let transcript: Vec<PayloadMessage> = state
        .transcript
        .iter()
        .filter(|e| e.from != Speaker::Agent && !e.text.trim().is_empty())
        .map(|e| {
            let visitor = e.from == Speaker::Visitor;
            PayloadMessage {
                author: if visitor { "visitor" } else { "bot" }.to_owned(),
                text: redactor.redact(&e.text),
                at_ms: e.time_ms,
                intent: e
                    .intent
                    .clone()
                    .filter(|i| visitor && !i.is_empty() && i.len() <= 100),
                confidence: e
                    .confidence
                    .filter(|_| visitor)
                    .map(|c| f64::from(c.clamp(0.0, 1.0))),
                sentiment: e
                    .sentiment
                    .filter(|_| visitor)
                    .map(|s| f64::from(s.clamp(-1.0, 1.0))),
            }
        })
        .collect();
    if transcript.is_empty() {
        return Err(EscalationError::Empty);
    }
    let fields: Vec<&str> = if policy.profile_fields.is_empty() {
        DEFAULT_PROFILE_FIELDS.to_vec()
    } else {
        policy.profile_fields.iter().map(String::as_str).collect()
    };
    let p = &state.profile;
    let mut profile = BTreeMap::new();
    for field in fields {
        let value = match field {
            "name" => p
                .name
                .as_ref()
                .map(|n| serde_json::Value::from(redactor.redact(n))),
            "locale" => Some(serde_json::Value::from(p.locale.clone())),
            "visits" => Some(serde_json::Value::from(p.visits)),
            "first_seen_ms" => Some(serde_json::Value::from(p.first_seen_ms)),
            "last_seen_ms" => Some(serde_json::Value::from(p.last_seen_ms)),
            _ => None,
        };
        if let Some(v) = value {
            profile.insert(field.to_owned(), v);
        }
    }
    Ok(Payload {
        locale: p.locale.clone(),
        bot_id: state.bot_id.clone(),
        profile,
        transcript,
    })
}

/// Where an escalation stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", try_from = "StatusFields")]
pub enum Status {
    /// Consented, waiting to be sent.
    Queued {
        /// When the visitor consented.
        since_ms: u64,
    },
    /// A request is in flight (or was, when the page closed).
    Sending {
        /// Attempt number, from 1.
        attempt: u32,
        /// When it started.
        started_ms: u64,
    },
    /// The server stored it.
    Sent {
        /// Conversation id from the server.
        id: String,
        /// The visitor's bearer token for this conversation.
        token: String,
        /// When the server answered.
        sent_ms: u64,
    },
    /// The last attempt failed; the next one is due at `next_retry_ms`.
    Failed {
        /// Attempts made so far.
        attempts: u32,
        /// When to try again, ms since the Unix epoch.
        next_retry_ms: u64,
    },
    /// An agent resolved the conversation.
    Resolved {
        /// Conversation id.
        id: String,
    },
}

/// [`Status`] as stored, read as one flat object: serde's buffering of an internally tagged
/// enum costs the browser bundle about 10 KB of wasm, a flat struct a fraction of it.
#[derive(Deserialize)]
struct StatusFields {
    state: String,
    since_ms: Option<u64>,
    attempt: Option<u32>,
    started_ms: Option<u64>,
    id: Option<String>,
    token: Option<String>,
    sent_ms: Option<u64>,
    attempts: Option<u32>,
    next_retry_ms: Option<u64>,
}

impl TryFrom<StatusFields> for Status {
    type Error = String;

    fn try_from(f: StatusFields) -> Result<Status, String> {
        let state = f.state;
        let missing = |field: &str| format!("escalation status `{state}` lacks `{field}`");
        Ok(match state.as_str() {
            "queued" => Status::Queued {
                since_ms: f.since_ms.ok_or_else(|| missing("since_ms"))?,
            },
            "sending" => Status::Sending {
                attempt: f.attempt.ok_or_else(|| missing("attempt"))?,
                started_ms: f.started_ms.ok_or_else(|| missing("started_ms"))?,
            },
            "sent" => Status::Sent {
                id: f.id.ok_or_else(|| missing("id"))?,
                token: f.token.ok_or_else(|| missing("token"))?,
                sent_ms: f.sent_ms.ok_or_else(|| missing("sent_ms"))?,
            },
            "failed" => Status::Failed {
                attempts: f.attempts.ok_or_else(|| missing("attempts"))?,
                next_retry_ms: f.next_retry_ms.ok_or_else(|| missing("next_retry_ms"))?,
            },
            "resolved" => Status::Resolved {
                id: f.id.ok_or_else(|| missing("id"))?,
            },
            other => return Err(format!("unknown escalation status `{other}`")),
        })
    }
}

impl Status {
    /// The status's name (`queued`, `sending`, `sent`, `failed`, `resolved`).
    pub fn name(&self) -> &'static str {
        match self {
            Status::Queued { .. } => "queued",
            Status::Sending { .. } => "sending",
            Status::Sent { .. } => "sent",
            Status::Failed { .. } => "failed",
            Status::Resolved { .. } => "resolved",
        }
    }
}

/// A visitor message waiting for delivery to the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Sent as the server's `client_id`, so a retry is stored once.
    pub client_id: String,
    /// Redacted text.
    pub text: String,
    /// When the visitor typed it.
    pub at_ms: u64,
    /// Failed attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not before this time (0: now).
    #[serde(default)]
    pub next_retry_ms: u64,
}

/// One escalation, from consent on. Serialize it to keep it across reloads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    /// What is (or was) sent.
    pub payload: Payload,
    /// The `Idempotency-Key`, so a retried create is stored once.
    pub idempotency_key: String,
    /// Where delivery stands.
    pub status: Status,
    /// Visitor messages to the agent not yet acknowledged by the server, oldest first.
    #[serde(default)]
    pub outbox: Vec<Outgoing>,
    /// The highest server message id seen (SSE `Last-Event-ID`).
    #[serde(default)]
    pub last_event_id: i64,
    /// Counter for `client_id`s.
    #[serde(default)]
    pub next_client_id: u64,
    /// SplitMix64 state for jitter.
    pub rng: u64,
    /// Owner patterns for later visitor messages.
    #[serde(default)]
    pub redact: Vec<String>,
}

/// The next number of the [`SplitMix64`](crate::text::SplitMix64) stream whose state is `state`.
fn splitmix(state: &mut u64) -> u64 {
    let mut rng = crate::text::SplitMix64(*state);
    let next = rng.next_u64();
    *state = rng.0;
    next
}

/// The delay before retry number `attempts + 1` after `attempts` failures: exponential from
/// [`BACKOFF_BASE_MS`], capped at [`BACKOFF_MAX_MS`], half fixed and half drawn from `random`.
pub fn backoff_ms(attempts: u32, random: u64) -> u64 {
    let exp = BACKOFF_BASE_MS
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(20))
        .min(BACKOFF_MAX_MS);
    let half = exp / 2;
    half + random % (half + 1)
}

impl Escalation {
    /// Queues the payload for `state` at `now` (the visitor consented). The jitter stream is
    /// seeded from the conversation's RNG (which advances).
    ///
    /// # Errors
    /// As [`build_payload`], and [`EscalationError::Key`] for a bad idempotency key.
    pub fn queue(
        state: &mut ConversationState,
        policy: &Policy,
        idempotency_key: &str,
        now_ms: u64,
    ) -> Result<Escalation, EscalationError> {
        if !(16..=200).contains(&idempotency_key.len())
            || !idempotency_key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(EscalationError::Key);
        }
        let payload = build_payload(state, policy)?;
        Ok(Escalation {
            payload,
            idempotency_key: idempotency_key.to_owned(),
            status: Status::Queued { since_ms: now_ms },
            outbox: Vec::new(),
            last_event_id: 0,
            next_client_id: 0,
            rng: state.next_random(),
            redact: policy.redact.clone(),
        })
    }

    /// True when a create request should start now: queued, failed and due, or a send left
    /// in flight for [`STALE_SEND_MS`] (the page closed mid-send).
    pub fn create_due(&self, now_ms: u64) -> bool {
        match self.status {
            Status::Queued { .. } => true,
            Status::Failed { next_retry_ms, .. } => now_ms >= next_retry_ms,
            Status::Sending { started_ms, .. } => {
                now_ms >= started_ms.saturating_add(STALE_SEND_MS)
            }
            _ => false,
        }
    }

    /// Marks a create request as started; returns the attempt number.
    ///
    /// # Errors
    /// [`EscalationError::Transition`] once sent or resolved.
    pub fn mark_sending(&mut self, now_ms: u64) -> Result<u32, EscalationError> {
        let attempt = match self.status {
            Status::Queued { .. } => 1,
            Status::Failed { attempts, .. } => attempts + 1,
            Status::Sending { attempt, .. } => attempt + 1,
            _ => return Err(self.refuse("send")),
        };
        self.status = Status::Sending {
            attempt,
            started_ms: now_ms,
        };
        Ok(attempt)
    }

    /// The server answered with the conversation `id` and the visitor's `token`.
    pub fn mark_sent(&mut self, id: &str, token: &str, now_ms: u64) {
        self.status = Status::Sent {
            id: id.to_owned(),
            token: token.to_owned(),
            sent_ms: now_ms,
        };
    }

    /// The create request failed (network, server down, 5xx, 429); returns when to retry.
    ///
    /// # Errors
    /// [`EscalationError::Transition`] once sent or resolved.
    pub fn mark_failed(&mut self, now_ms: u64) -> Result<u64, EscalationError> {
        let attempts = match self.status {
            Status::Sending { attempt, .. } => attempt,
            Status::Failed { attempts, .. } => attempts + 1,
            Status::Queued { .. } => 1,
            _ => return Err(self.refuse("fail")),
        };
        let next = now_ms + backoff_ms(attempts, splitmix(&mut self.rng));
        self.status = Status::Failed {
            attempts,
            next_retry_ms: next,
        };
        Ok(next)
    }

    /// A page (re)loaded at `now`: no request of this page can be in flight, so a send still
    /// marked as such was cut off (page closed mid-send) and counts as failed, due at once. The
    /// idempotency key makes the retry safe even if the cut-off request had been stored.
    pub fn resume(&mut self, now_ms: u64) {
        if let Status::Sending { attempt, .. } = self.status {
            self.status = Status::Failed {
                attempts: attempt,
                next_retry_ms: now_ms,
            };
        }
    }

    /// An agent resolved the conversation.
    pub fn mark_resolved(&mut self) {
        if let Status::Sent { id, .. } = &self.status {
            self.status = Status::Resolved { id: id.clone() };
        }
    }

    /// Queues a visitor message for the agent (redacted like the payload); returns it.
    pub fn enqueue_message(&mut self, text: &str, now_ms: u64) -> Outgoing {
        self.next_client_id += 1;
        let redacted =
            Redactor::new(&self.redact).map_or_else(|_| redact_cards(text), |r| r.redact(text));
        let message = Outgoing {
            client_id: format!("{}-{}", self.idempotency_key, self.next_client_id),
            text: redacted,
            at_ms: now_ms,
            attempts: 0,
            next_retry_ms: 0,
        };
        self.outbox.push(message.clone());
        message
    }

    /// The server stored the message `client_id`: drop it from the outbox.
    pub fn message_delivered(&mut self, client_id: &str) {
        self.outbox.retain(|m| m.client_id != client_id);
    }

    /// Delivering `client_id` failed; returns when to retry it.
    pub fn message_failed(&mut self, client_id: &str, now_ms: u64) -> Option<u64> {
        let random = splitmix(&mut self.rng);
        let m = self.outbox.iter_mut().find(|m| m.client_id == client_id)?;
        m.attempts += 1;
        m.next_retry_ms = now_ms + backoff_ms(m.attempts, random);
        Some(m.next_retry_ms)
    }

    /// Records a server message id; true when it is new (not seen before).
    pub fn see_event(&mut self, id: i64) -> bool {
        if id > self.last_event_id {
            self.last_event_id = id;
            true
        } else {
            false
        }
    }

    fn refuse(&self, action: &'static str) -> EscalationError {
        EscalationError::Transition {
            action,
            status: self.status.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Profile, TranscriptEntry, STATE_VERSION};

    fn entry(
        from: Speaker,
        text: &str,
        intent: Option<&str>,
        confidence: Option<f32>,
    ) -> TranscriptEntry {
        TranscriptEntry {
            from,
            text: text.into(),
            time_ms: 1_000,
            intent: intent.map(Into::into),
            confidence,
            sentiment: None,
            quick_replies: Vec::new(),
            links: Vec::new(),
        }
    }

    fn state() -> ConversationState {
        ConversationState {
            version: STATE_VERSION,
            bot_id: "shop".into(),
            transcript: vec![
                entry(Speaker::Bot, "Hi! How can I help?", None, None),
                entry(
                    Speaker::Visitor,
                    "my card 4111 1111 1111 1111 was charged twice",
                    Some("refund"),
                    Some(0.8),
                ),
                entry(Speaker::Bot, "Sorry to hear that.", None, None),
                entry(
                    Speaker::Visitor,
                    "I want a person, order AB-1234",
                    Some("human"),
                    Some(0.93),
                ),
            ],
            form: None,
            profile: Profile {
                name: Some("Ana".into()),
                locale: "en".into(),
                visits: 2,
                first_seen_ms: 5,
                last_seen_ms: 9,
            },
            rng: 42,
            fallbacks_in_a_row: 0,
            context: None,
            negatives: 0,
            mentions: Default::default(),
        }
    }

    #[test]
    fn card_numbers_are_redacted_only_when_luhn_valid() {
        assert_eq!(
            redact_cards("card 4111111111111111 ok"),
            format!("card {CARD_LABEL} ok")
        );
        assert_eq!(redact_cards("4111-1111-1111-1111"), CARD_LABEL);
        assert_eq!(
            redact_cards("5500 0000 0000 0004."),
            format!("{CARD_LABEL}.")
        );
        // Fails Luhn, too short, too long: kept.
        assert_eq!(redact_cards("4111 1111 1111 1112"), "4111 1111 1111 1112");
        assert_eq!(redact_cards("order 123456789012"), "order 123456789012");
        assert_eq!(redact_cards("call 555-0100 at 3"), "call 555-0100 at 3");
        // A card within a longer run of groups.
        assert_eq!(
            redact_cards("12 4111 1111 1111 1111"),
            format!("12 {CARD_LABEL}")
        );
        assert_eq!(
            redact_cards("día 4111111111111111 é"),
            format!("día {CARD_LABEL} é")
        );
    }

    #[test]
    fn payload_redacts_annotates_and_keeps_only_allowed_fields() {
        let policy = Policy {
            profile_fields: vec!["name".into(), "visits".into()],
            redact: vec![r"AB-\d{4}".into()],
        };
        let p = build_payload(&state(), &policy).unwrap();
        assert_eq!(p.locale, "en");
        assert_eq!(p.transcript.len(), 4);
        assert_eq!(
            p.transcript[1].text,
            format!("my card {CARD_LABEL} was charged twice")
        );
        assert_eq!(p.transcript[1].intent.as_deref(), Some("refund"));
        assert!((p.transcript[1].confidence.unwrap() - 0.8).abs() < 1e-6);
        assert_eq!(
            p.transcript[3].text,
            format!("I want a person, order {PATTERN_LABEL}")
        );
        assert_eq!(p.transcript[0].author, "bot");
        assert!(p.transcript[0].intent.is_none());
        assert_eq!(p.profile.keys().collect::<Vec<_>>(), ["name", "visits"]);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("4111"), "{json}");
        let none = Policy {
            profile_fields: vec!["email".into()],
            redact: Vec::new(),
        };
        assert!(build_payload(&state(), &none).unwrap().profile.is_empty());
    }

    #[test]
    fn bad_patterns_and_empty_conversations_are_errors() {
        let policy = Policy {
            profile_fields: Vec::new(),
            redact: vec!["ok".into(), "(".into()],
        };
        let err = build_payload(&state(), &policy).unwrap_err();
        assert!(err.to_string().contains("pattern 1"), "{err}");
        let mut empty = state();
        empty.transcript.clear();
        assert!(matches!(
            build_payload(&empty, &Policy::default()),
            Err(EscalationError::Empty)
        ));
    }

    #[test]
    fn retries_back_off_with_jitter_until_sent() {
        let mut s = state();
        let rng_before = s.rng;
        assert!(matches!(
            Escalation::queue(&mut s, &Policy::default(), "short", 0),
            Err(EscalationError::Key)
        ));
        let mut e =
            Escalation::queue(&mut s, &Policy::default(), "key-0123456789abcdef", 100).unwrap();
        assert_ne!(s.rng, rng_before);
        assert!(e.create_due(100));
        assert_eq!(e.mark_sending(100).unwrap(), 1);
        assert!(!e.create_due(101));
        assert!(
            e.create_due(100 + STALE_SEND_MS),
            "a send cut off by a closed page is due again"
        );
        let mut reloaded = e.clone();
        reloaded.resume(150);
        assert_eq!(
            reloaded.status,
            Status::Failed {
                attempts: 1,
                next_retry_ms: 150
            }
        );
        assert!(
            reloaded.create_due(150),
            "after a reload the cut-off send is due at once"
        );
        let mut delays = Vec::new();
        let mut now = 100;
        for attempt in 1..=8u32 {
            let next = e.mark_failed(now).unwrap();
            let delay = next - now;
            let exp = (BACKOFF_BASE_MS << (attempt - 1)).min(BACKOFF_MAX_MS);
            assert!(
                delay >= exp / 2 && delay <= exp,
                "attempt {attempt}: {delay} not in [{}, {exp}]",
                exp / 2
            );
            assert!(!e.create_due(next - 1));
            assert!(e.create_due(next));
            delays.push(delay);
            now = next;
            assert_eq!(e.mark_sending(now).unwrap(), attempt + 1);
        }
        assert!(
            delays.windows(2).filter(|w| w[1] > w[0]).count() >= 4,
            "{delays:?}"
        );
        e.mark_sent("c_1", "tok", now);
        assert!(!e.create_due(now + 1_000_000));
        assert!(e.mark_sending(now).is_err());
        assert!(e.mark_failed(now).is_err());
        e.mark_resolved();
        assert_eq!(e.status, Status::Resolved { id: "c_1".into() });
    }

    #[test]
    fn same_seed_same_jitter_and_json_round_trip() {
        let run = || {
            let mut s = state();
            let mut e =
                Escalation::queue(&mut s, &Policy::default(), "key-0123456789abcdef", 0).unwrap();
            e.mark_sending(0).unwrap();
            (e.mark_failed(0).unwrap(), e.mark_failed(0).unwrap(), e)
        };
        let (a1, a2, e) = run();
        let (b1, b2, _) = run();
        assert_eq!((a1, a2), (b1, b2));
        let back: Escalation = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn every_status_round_trips_and_a_missing_field_is_named() {
        let all = [
            Status::Queued { since_ms: 1 },
            Status::Sending {
                attempt: 2,
                started_ms: 3,
            },
            Status::Sent {
                id: "c_1".into(),
                token: "t".into(),
                sent_ms: 4,
            },
            Status::Failed {
                attempts: 5,
                next_retry_ms: 6,
            },
            Status::Resolved { id: "c_2".into() },
        ];
        for status in all {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(
                serde_json::from_str::<Status>(&json).unwrap(),
                status,
                "{json}"
            );
        }
        let err = serde_json::from_str::<Status>(r#"{"state":"sent","id":"c_1","sent_ms":4}"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("escalation status `sent` lacks `token`"),
            "{err}"
        );
        let err = serde_json::from_str::<Status>(r#"{"state":"lost"}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown escalation status `lost`"),
            "{err}"
        );
    }

    #[test]
    fn visitor_messages_wait_in_the_outbox_until_delivered() {
        let mut s = state();
        let policy = Policy {
            profile_fields: Vec::new(),
            redact: vec![r"AB-\d{4}".into()],
        };
        let mut e = Escalation::queue(&mut s, &policy, "key-0123456789abcdef", 0).unwrap();
        let m1 = e.enqueue_message("card 4111111111111111, order AB-9999", 10);
        let m2 = e.enqueue_message("thanks", 11);
        assert_ne!(m1.client_id, m2.client_id);
        assert_eq!(m1.text, format!("card {CARD_LABEL}, order {PATTERN_LABEL}"));
        let next = e.message_failed(&m1.client_id, 20).unwrap();
        assert!(next > 20);
        e.message_delivered(&m2.client_id);
        assert_eq!(e.outbox.len(), 1);
        assert_eq!(e.outbox[0].attempts, 1);
        assert!(e.see_event(5));
        assert!(!e.see_event(5));
        assert!(!e.see_event(3));
    }
}
