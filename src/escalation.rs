//! Handing a conversation to a person: the payload the visitor agrees to send, its redaction,
//! and the delivery status with retries, as pure values and transitions (time comes in).
//!
//! - [`build_payload`](crate::escalation::build_payload) turns a [`ConversationState`](crate::ConversationState) into what the escalation server's
//!   `POST /api/escalations` takes ([`EscalationRequest`](crate::protocol::EscalationRequest), owned by [`crate::protocol`]): the transcript (visitor and bot messages, each visitor
//!   message with the bot's intent, confidence and sentiment), only the profile fields the owner
//!   allows ([`Policy::profile_fields`](crate::escalation::Policy::profile_fields)), and the locale. Every text is redacted first: card
//!   numbers (13 to 19 digits, optionally grouped by single spaces or dashes, that pass the Luhn
//!   check) and the owner's own patterns ([`Policy::redact`](crate::escalation::Policy::redact), `regex-lite` syntax).
//! - [`Escalation`](crate::escalation::Escalation) is what the widget keeps (in `localStorage`) between consent and the agent's
//!   last word: the payload, the idempotency key, the [`Status`](crate::escalation::Status), visitor messages not yet
//!   delivered to the agent, and the last server event seen. Which answers are retried, and
//!   when, is [`crate::protocol::delivery`]'s decision (the jitter comes from the escalation's
//!   own SplitMix64 stream, seeded from the conversation's RNG); a final refusal (422 …) stops
//!   the retries and is kept as [`Status::Rejected`](crate::escalation::Status::Rejected) or [`Outgoing::rejected`](crate::escalation::Outgoing::rejected).

use std::collections::BTreeMap;

use regex_lite::Regex;
use serde::{Deserialize, Serialize};

use crate::protocol::delivery::{Delivery, Event, Step};
use crate::protocol::{
    Author, ConversationStatus, EscalationCreated, EscalationRequest, Message, SharedQuestion, TranscriptMessage,
    MAX_SHARED_CHARS,
};
use crate::state::{ConversationState, Speaker, TranscriptEntry};

pub use crate::protocol::delivery::{backoff_ms, BACKOFF_BASE_MS, BACKOFF_MAX_MS, STALE_SEND_MS};
pub use crate::protocol::DEFAULT_PROFILE_FIELDS;
/// What a card number becomes.
pub const CARD_LABEL: &str = "[redacted card number]";
/// What an owner-listed pattern's match becomes.
pub const PATTERN_LABEL: &str = "[redacted]";

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
    /// Profile fields to include (`name`, `locale`, `visits`, `first_seen_ms`, `last_seen_ms`,
    /// `customer_id`, or `traits.<key>` for a trait the site gave with `identify()`); empty means
    /// [`DEFAULT_PROFILE_FIELDS`].
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

/// The body of `POST /api/escalations` (the widget sends the idempotency key as a header).
pub type Payload = EscalationRequest;

/// `text` cut into consecutive parts of at most [`crate::protocol::MAX_TEXT_CHARS`] chars, on
/// char boundaries (one part when it fits), so a message longer than the protocol allows is
/// delivered whole, in order, rather than refused. A part that is only white space (which the
/// protocol refuses) is left out: the only thing of a message it drops is a run of blanks.
fn text_parts(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some((end, _)) = rest.char_indices().nth(crate::protocol::MAX_TEXT_CHARS) {
        parts.push(&rest[..end]);
        rest = &rest[end..];
    }
    parts.push(rest);
    parts.retain(|p| !p.trim().is_empty());
    parts
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
    let mut transcript: Vec<TranscriptMessage> = state
        .transcript
        .iter()
        .filter(|e| e.from != Author::Agent && !e.text.trim().is_empty())
        .flat_map(|e| {
            let visitor = e.from == Author::Visitor;
            let text = redactor.redact(&e.text);
            let parts: Vec<String> = text_parts(&text).into_iter().map(str::to_owned).collect();
            let mut parts = parts.into_iter();
            let first = TranscriptMessage {
                author: e.from,
                text: parts.next().unwrap_or_default(),
                at_ms: Some(e.time_ms),
                intent: e
                    .intent
                    .clone()
                    .filter(|i| visitor && crate::protocol::intent_ok(i)),
                confidence: e
                    .confidence
                    .filter(|_| visitor)
                    .map(|c| f64::from(c.clamp(0.0, 1.0))),
                sentiment: e
                    .sentiment
                    .filter(|_| visitor)
                    .map(|s| f64::from(s.clamp(-1.0, 1.0))),
            };
            // The rest of a message too long for one protocol message follows as plain parts.
            let rest = parts.map(move |text| TranscriptMessage {
                author: e.from,
                text,
                at_ms: Some(e.time_ms),
                intent: None,
                confidence: None,
                sentiment: None,
            });
            std::iter::once(first).chain(rest)
        })
        .collect();
    // Parts can push an old conversation past the protocol's count: the latest are kept, as
    // the stored transcript keeps them.
    if transcript.len() > crate::protocol::MAX_TRANSCRIPT {
        transcript.drain(..transcript.len() - crate::protocol::MAX_TRANSCRIPT);
    }
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
    for &field in &fields {
        let value = match field {
            "name" => p
                .name
                .as_ref()
                .map(|n| serde_json::Value::from(redactor.redact(n))),
            "locale" => Some(serde_json::Value::from(p.locale.clone())),
            "visits" => Some(serde_json::Value::from(p.visits)),
            "first_seen_ms" => Some(serde_json::Value::from(p.first_seen_ms)),
            "last_seen_ms" => Some(serde_json::Value::from(p.last_seen_ms)),
            // A trait the site gave with `identify()` (`traits.tier`), when the owner lists it.
            f => f
                .strip_prefix(crate::protocol::TRAIT_FIELD_PREFIX)
                .and_then(|key| p.customer.as_ref()?.traits.get(key))
                .map(|v| serde_json::Value::from(redactor.redact(v))),
            // `customer_id` travels as `customer`, below, with the site's `user_hash`.
        };
        if let Some(v) = value {
            profile.insert(field.to_owned(), v);
        }
    }
    // The site's customer record stays on the device; only its id (and the site's voucher for
    // it) leaves, and only when the owner lists `customer_id`.
    let customer = p
        .customer
        .as_ref()
        .filter(|c| fields.contains(&crate::protocol::CUSTOMER_ID_FIELD) && crate::protocol::customer_id_ok(&c.id))
        .map(|c| crate::protocol::CustomerIdentity { id: c.id.clone(), user_hash: c.user_hash.clone() });
    Ok(Payload {
        idempotency_key: None,
        locale: p.locale.clone(),
        bot_id: Some(state.bot_id.clone()),
        page_url: None,
        profile,
        transcript,
        customer,
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
    /// The server refused the escalation for good (HTTP `http_status`: 422 …); not retried.
    Rejected {
        /// Attempts made.
        attempts: u32,
        /// The final HTTP status.
        http_status: u16,
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
    http_status: Option<u16>,
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
            "rejected" => Status::Rejected {
                attempts: f.attempts.ok_or_else(|| missing("attempts"))?,
                http_status: f.http_status.ok_or_else(|| missing("http_status"))?,
            },
            other => return Err(format!("unknown escalation status `{other}`")),
        })
    }
}

impl Status {
    /// The status's name (`queued`, `sending`, `sent`, `failed`, `resolved`, `rejected`).
    pub fn name(&self) -> &'static str {
        match self {
            Status::Queued { .. } => "queued",
            Status::Sending { .. } => "sending",
            Status::Sent { .. } => "sent",
            Status::Failed { .. } => "failed",
            Status::Resolved { .. } => "resolved",
            Status::Rejected { .. } => "rejected",
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
    /// The HTTP status that refused it for good (413, 422 …): it is not sent again, and stays
    /// in the visitor's transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<u16>,
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
        if !crate::protocol::idempotency_key_ok(idempotency_key) {
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

    /// Takes over, on this device, an escalation the visitor started elsewhere, into `slot`
    /// (the conversation's escalation): `created` is the server's answer to `POST
    /// /api/escalations/resume` (the emailed link) or `/by-customer` (an identified customer's
    /// other device), `history` the conversation's messages (`GET
    /// /api/escalations/{id}/messages`, oldest first). Each message joins `state`'s transcript
    /// (visitor, bot and agent alike) and the stream resumes after the newest. When `slot`
    /// already follows the same conversation (the link opened on the device that escalated),
    /// only its token is renewed and nothing is added twice. Later visitor messages are
    /// redacted under `policy` and keyed `idempotency_key`-`n`.
    ///
    /// # Errors
    /// [`EscalationError::Key`] for a bad key, [`EscalationError::Pattern`] for a bad policy;
    /// `slot` is then unchanged.
    pub fn adopt(
        slot: &mut Option<Escalation>,
        state: &mut ConversationState,
        created: &EscalationCreated,
        history: &[Message],
        policy: &Policy,
        idempotency_key: &str,
        now_ms: u64,
    ) -> Result<(), EscalationError> {
        let status = match created.status {
            ConversationStatus::Open => Status::Sent { id: created.id.clone(), token: created.token.clone(), sent_ms: now_ms },
            ConversationStatus::Resolved => Status::Resolved { id: created.id.clone() },
        };
        if let Some(same) = slot.as_mut().filter(|e| e.id() == Some(created.id.as_str())) {
            same.status = status;
            return Ok(());
        }
        if !crate::protocol::idempotency_key_ok(idempotency_key) {
            return Err(EscalationError::Key);
        }
        Redactor::new(&policy.redact)?;
        let mut last_event_id = 0;
        for m in history {
            last_event_id = last_event_id.max(m.id);
            if m.text.trim().is_empty() {
                continue;
            }
            state.push(TranscriptEntry::plain(m.author, &m.text, u64::try_from(m.created_ms).unwrap_or(0)));
        }
        *slot = Some(Escalation {
            payload: EscalationRequest {
                idempotency_key: None,
                locale: state.profile.locale.clone(),
                bot_id: None,
                page_url: None,
                profile: BTreeMap::new(),
                transcript: Vec::new(),
                customer: None,
            },
            idempotency_key: idempotency_key.to_owned(),
            status,
            outbox: Vec::new(),
            last_event_id,
            next_client_id: 0,
            rng: state.next_random(),
            redact: policy.redact.clone(),
        });
        Ok(())
    }

    /// The server's id for this escalation once it was stored (sent or resolved).
    pub fn id(&self) -> Option<&str> {
        match &self.status {
            Status::Sent { id, .. } | Status::Resolved { id } => Some(id),
            _ => None,
        }
    }

    /// The create request's delivery, as [`crate::protocol::delivery`] sees it (sent or
    /// resolved: delivered).
    pub fn delivery(&self) -> Delivery {
        match self.status {
            Status::Queued { .. } => Delivery::Pending,
            Status::Sending { attempt, started_ms } => Delivery::InFlight { attempt, started_ms },
            Status::Failed { attempts, next_retry_ms } => Delivery::Waiting { attempts, next_ms: next_retry_ms },
            Status::Sent { .. } | Status::Resolved { .. } => Delivery::Delivered,
            Status::Rejected { attempts, http_status } => Delivery::Rejected { attempts, status: http_status },
        }
    }

    /// Feeds `event` at `now_ms` to the create request's delivery and returns the next step.
    /// A 2xx answer leaves the status `sending` until [`Escalation::mark_sent`] records the id
    /// and token from its body; a final refusal becomes [`Status::Rejected`].
    pub fn on_create(&mut self, event: Event, now_ms: u64) -> Step {
        let mut delivery = self.delivery();
        let step = delivery.on(event, now_ms, &mut self.rng);
        match delivery {
            Delivery::Pending | Delivery::Delivered => {}
            Delivery::InFlight { attempt, started_ms } => self.status = Status::Sending { attempt, started_ms },
            Delivery::Waiting { attempts, next_ms } => self.status = Status::Failed { attempts, next_retry_ms: next_ms },
            Delivery::Rejected { attempts, status } => self.status = Status::Rejected { attempts, http_status: status },
        }
        step
    }

    /// True when a create request should start now: queued, failed and due, or a send left
    /// in flight for [`STALE_SEND_MS`] (the page closed mid-send). Never after a final refusal.
    pub fn create_due(&self, now_ms: u64) -> bool {
        let mut rng = self.rng;
        matches!(self.delivery().on(Event::Tick, now_ms, &mut rng), Step::SendNow { .. })
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
            Status::Sent { .. } | Status::Resolved { .. } | Status::Rejected { .. } => return Err(self.refuse("send")),
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

    /// The create request got no answer (network error) at `now_ms`; returns when to retry.
    ///
    /// # Errors
    /// [`EscalationError::Transition`] unless a send is in flight.
    pub fn mark_failed(&mut self, now_ms: u64) -> Result<u64, EscalationError> {
        if !matches!(self.status, Status::Sending { .. }) {
            return Err(self.refuse("fail"));
        }
        match self.on_create(Event::NetworkError, now_ms) {
            Step::WaitUntil { at_ms } => Ok(at_ms),
            _ => Err(self.refuse("fail")),
        }
    }

    /// A page (re)loaded at `now`: no request of this page can be in flight, so a send still
    /// marked as such was cut off (page closed mid-send) and counts as failed, due at once. The
    /// idempotency key makes the retry safe even if the cut-off request had been stored.
    pub fn resume(&mut self, now_ms: u64) {
        let mut delivery = self.delivery();
        delivery.resume(now_ms);
        if let Delivery::Waiting { attempts, next_ms } = delivery {
            self.status = Status::Failed { attempts, next_retry_ms: next_ms };
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
            rejected: None,
        };
        self.outbox.push(message.clone());
        message
    }

    /// The server stored the message `client_id`: drop it from the outbox.
    pub fn message_delivered(&mut self, client_id: &str) {
        self.outbox.retain(|m| m.client_id != client_id);
    }

    /// The answer to (or network error of) a send of the message `client_id` at `now_ms`:
    /// delivered messages leave the outbox, retryable failures wait, final refusals are marked
    /// [`Outgoing::rejected`] and never sent again. `None` when `client_id` is not in the outbox.
    pub fn message_outcome(&mut self, client_id: &str, event: Event, now_ms: u64) -> Option<Step> {
        let i = self.outbox.iter().position(|m| m.client_id == client_id)?;
        let m = &mut self.outbox[i];
        let mut delivery = match m.rejected {
            Some(status) => Delivery::Rejected { attempts: m.attempts, status },
            // An answer always follows a send: the message was in flight.
            None => Delivery::InFlight { attempt: m.attempts + 1, started_ms: now_ms },
        };
        let step = delivery.on(event, now_ms, &mut self.rng);
        match delivery {
            Delivery::Delivered => {
                self.outbox.remove(i);
            }
            Delivery::Waiting { attempts, next_ms } => {
                m.attempts = attempts;
                m.next_retry_ms = next_ms;
            }
            Delivery::Rejected { attempts, status } => {
                m.attempts = attempts;
                m.rejected = Some(status);
            }
            Delivery::Pending | Delivery::InFlight { .. } => {}
        }
        Some(step)
    }

    /// Delivering `client_id` failed (network error); returns when to retry it.
    pub fn message_failed(&mut self, client_id: &str, now_ms: u64) -> Option<u64> {
        match self.message_outcome(client_id, Event::NetworkError, now_ms)? {
            Step::WaitUntil { at_ms } => Some(at_ms),
            _ => None,
        }
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

/// The question the visitor may agree to share to improve the bot, from their latest
/// message: the message itself when the bot fell back on it (no intent), or, when they then
/// pressed one of the fallback's suggestions, the message that fell back with the intent they
/// picked. Redacted under `policy` (card numbers and the
/// owner's patterns), cut to [`MAX_SHARED_CHARS`]. `None` when the latest message was answered
/// normally. `id` is the caller's random key.
///
/// # Errors
/// [`EscalationError::Pattern`] for an invalid owner pattern.
pub fn shared_question(state: &ConversationState, policy: &Policy, id: &str) -> Result<Option<SharedQuestion>, EscalationError> {
    let t = &state.transcript;
    let Some(last) = t.iter().rposition(|e| e.from == Speaker::Visitor) else { return Ok(None) };
    let (text, intent) = if t[last].fallback {
        (&t[last].text, None)
    } else {
        let Some(before) = t[..last].iter().rposition(|e| e.from == Speaker::Visitor) else { return Ok(None) };
        let picked = t[last].intent.as_ref().filter(|intent| {
            t[before + 1..last].iter().flat_map(|b| &b.quick_replies).any(|q| q.label == t[last].text && q.intent.as_ref() == Some(*intent))
        });
        match (t[before].fallback, picked) {
            (true, Some(intent)) => (&t[before].text, Some(intent.clone())),
            _ => return Ok(None),
        }
    };
    let redactor = Redactor::new(&policy.redact)?;
    let text: String = redactor.redact(text).chars().take(MAX_SHARED_CHARS).collect();
    Ok(Some(SharedQuestion { id: id.to_owned(), locale: state.profile.locale.clone(), text, intent }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Profile, Speaker, TranscriptEntry, STATE_VERSION};

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
            fallback: false,
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
                facts: Vec::new(),
                customer: None,
                locale_chosen: false,
                locale_pending: None,
                topics: Vec::new(),
                taught: Vec::new(),
            },
            rng: 42,
            fallbacks_in_a_row: 0,
            topic: None,
            negatives: 0,
            memory: Default::default(),
            shopping: None,
            proactive: Default::default(),
            csat: Default::default(),
        }
    }

    fn server_message(id: i64, author: Author, text: &str) -> Message {
        Message { id, author, author_name: None, text: text.into(), created_ms: 2_000 + id, intent: None, confidence: None, sentiment: None }
    }

    #[test]
    fn adopting_an_escalation_shows_its_history_once_and_follows_after_it() {
        let mut s = state();
        let before = s.transcript.len();
        let created = EscalationCreated { id: "c_1".into(), token: "t1".into(), status: ConversationStatus::Open, created_ms: 5 };
        let history = [
            server_message(7, Author::Visitor, "where is my parcel?"),
            server_message(9, Author::Agent, "It left today."),
        ];
        let mut slot = None;
        Escalation::adopt(&mut slot, &mut s, &created, &history, &Policy::default(), "device-b-key-0123456789", 3_000).unwrap();
        let e = slot.clone().unwrap();
        assert_eq!(e.id(), Some("c_1"));
        assert_eq!(e.last_event_id, 9);
        assert!(matches!(&e.status, Status::Sent { token, .. } if token == "t1"));
        assert_eq!(s.transcript.len(), before + 2);
        assert_eq!(s.transcript[before + 1].from, Speaker::Agent);
        assert_eq!(s.transcript[before + 1].text, "It left today.");
        // The link opened again on the same device: a new token, nothing shown twice.
        let renewed = EscalationCreated { token: "t2".into(), ..created.clone() };
        Escalation::adopt(&mut slot, &mut s, &renewed, &history, &Policy::default(), "device-b-key-0123456789", 4_000).unwrap();
        let again = slot.clone().unwrap();
        assert_eq!(s.transcript.len(), before + 2);
        assert_eq!(again.last_event_id, 9);
        assert!(matches!(&again.status, Status::Sent { token, .. } if token == "t2"));
        // A resolved conversation is adopted as resolved; a bad key is refused.
        let resolved = EscalationCreated { id: "c_2".into(), status: ConversationStatus::Resolved, ..created };
        Escalation::adopt(&mut slot, &mut s, &resolved, &[], &Policy::default(), "device-b-key-0123456789", 5_000).unwrap();
        assert_eq!(slot.as_ref().unwrap().status.name(), "resolved");
        let mut empty = None;
        assert!(matches!(Escalation::adopt(&mut empty, &mut s, &resolved, &[], &Policy::default(), "short", 5_000), Err(EscalationError::Key)));
        assert!(empty.is_none());
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
        assert_eq!(p.transcript[0].author, Author::Bot);
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
    fn the_customer_id_and_user_hash_leave_only_when_the_owner_allows_customer_id() {
        let mut s = state();
        s.profile.customer = Some(crate::state::Customer {
            id: "c-42".into(),
            name: Some("Ana".into()),
            email: Some("ana@example.com".into()),
            locale: None,
            traits: Default::default(),
            orders: Vec::new(),
            user_hash: Some("ab".repeat(32)),
        });
        let allowed = Policy { profile_fields: vec!["name".into(), "customer_id".into()], redact: Vec::new() };
        let p = build_payload(&s, &allowed).unwrap();
        let customer = p.customer.expect("customer sent");
        assert_eq!((customer.id.as_str(), customer.user_hash.as_deref()), ("c-42", Some("ab".repeat(32).as_str())));
        let json = serde_json::to_string(&build_payload(&s, &allowed).unwrap()).unwrap();
        assert!(!json.contains("ana@example.com"), "{json}");
        for fields in [vec![], vec!["name".to_owned()]] {
            let p = build_payload(&s, &Policy { profile_fields: fields, redact: Vec::new() }).unwrap();
            let json = serde_json::to_string(&p).unwrap();
            assert!(p.customer.is_none() && !json.contains("c-42") && !json.contains("abab"), "{json}");
        }
    }

    #[test]
    fn a_shared_question_is_the_fallen_back_message_redacted_with_the_pick() {
        let bot = crate::Bot::from_json(include_str!("../tests/fixtures/bots/mini.json")).expect("mini bot trains");
        let mut state = bot.new_state("en", 1, 0);
        let at = crate::TurnContext::new(5, 0);
        let policy = Policy { profile_fields: Vec::new(), redact: vec![r"\bQX-\d+\b".into()] };
        assert_eq!(shared_question(&state, &policy, "key-0123456789abcdef").unwrap(), None, "nothing said");
        let turn = bot.respond(&mut state, crate::Input::Text { text: "qwzx QX-123 vbnm 4111 1111 1111 1111".into() }, at);
        assert!(turn.intent.is_none());
        let q = shared_question(&state, &policy, "key-0123456789abcdef").unwrap().expect("a fallback can be shared");
        assert_eq!((q.intent.as_deref(), q.locale.as_str()), (None, "en"));
        assert!(!q.text.contains("QX-123") && !q.text.contains("4111") && q.text.starts_with("qwzx "), "{}", q.text);
        assert!(q.validate().is_ok());
        let offered = turn.messages.iter().flat_map(|m| &m.quick_replies).find(|q| q.intent.is_some()).cloned().expect("suggestions offered");
        bot.respond(&mut state, crate::Input::QuickReply { label: offered.label.clone(), intent: offered.intent.clone(), locale: None }, at);
        let q = shared_question(&state, &policy, "key-0123456789abcdef").unwrap().expect("a pick can be shared");
        assert_eq!(q.intent, offered.intent);
        assert!(q.text.starts_with("qwzx "), "the message that fell back: {}", q.text);
        bot.respond(&mut state, crate::Input::Text { text: "hello".into() }, at);
        assert_eq!(shared_question(&state, &policy, "key-0123456789abcdef").unwrap(), None, "answered normally");
    }

    #[test]
    fn a_trait_leaves_only_when_the_owner_lists_it() {
        let mut s = state();
        s.profile.customer = Some(crate::state::Customer {
            id: "c-7".into(),
            name: None,
            email: None,
            locale: None,
            traits: [("tier".to_owned(), "gold".to_owned()), ("ltv".to_owned(), "900".to_owned())].into_iter().collect(),
            orders: Vec::new(),
            user_hash: None,
        });
        let tier = Policy { profile_fields: vec!["traits.tier".into(), "traits.missing".into()], redact: Vec::new() };
        let p = build_payload(&s, &tier).unwrap();
        assert_eq!(serde_json::to_value(&p.profile).unwrap(), serde_json::json!({ "traits.tier": "gold" }));
        let json = serde_json::to_string(&build_payload(&s, &Policy::default()).unwrap()).unwrap();
        assert!(!json.contains("gold") && !json.contains("900"), "{json}");
    }

    #[test]
    fn a_message_longer_than_the_protocol_allows_is_delivered_whole_in_parts() {
        use crate::protocol::MAX_TEXT_CHARS;
        let long: String = "où est ma commande 📦 ".repeat(600); // 12,600 chars, 2 to 4 bytes some
        let blank_start = format!("{}tail", " ".repeat(MAX_TEXT_CHARS + 10));
        let mut s = state();
        s.transcript.push(entry(Speaker::Visitor, &long, Some("order_status"), Some(0.9)));
        s.transcript.push(entry(Speaker::Visitor, &blank_start, None, None));
        let payload = build_payload(&s, &Policy::default()).unwrap();
        payload.validate(&crate::protocol::PROFILE_FIELDS).expect("every part is a valid protocol message");
        let parts: Vec<_> = payload.transcript[4..].iter().collect();
        let n = long.chars().count().div_ceil(MAX_TEXT_CHARS);
        assert_eq!(n, 4);
        let joined: String = parts[..n].iter().map(|m| m.text.as_str()).collect();
        assert_eq!(joined, long, "the parts, in order, are the message");
        assert_eq!(parts[0].intent.as_deref(), Some("order_status"));
        assert!(parts[1..n].iter().all(|m| m.intent.is_none() && m.confidence.is_none()));
        // A run of blanks alone is all that is dropped.
        assert_eq!(parts[n..].iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), [" ".repeat(10) + "tail"]);
        // Parts never push the transcript past the protocol's count: the latest are kept.
        let mut many = state();
        for i in 0..crate::protocol::MAX_TRANSCRIPT - 1 {
            many.transcript.push(entry(Speaker::Visitor, &format!("message {i}"), None, None));
        }
        many.transcript.push(entry(Speaker::Visitor, &long, None, None));
        let payload = build_payload(&many, &Policy::default()).unwrap();
        assert_eq!(payload.transcript.len(), crate::protocol::MAX_TRANSCRIPT);
        assert_eq!(payload.transcript.last().unwrap().text, long.chars().skip(3 * MAX_TEXT_CHARS).collect::<String>());
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
            let first = e.mark_failed(0).unwrap();
            e.mark_sending(first).unwrap();
            (first, e.mark_failed(first).unwrap(), e)
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
            Status::Rejected {
                attempts: 1,
                http_status: 422,
            },
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
        // Issue 10: a refused message (422) is kept, marked, and never retried.
        let m3 = e.enqueue_message(&"x".repeat(5000), 30);
        let http = |status| Event::Http { status, retry_after_ms: None };
        assert_eq!(e.message_outcome(&m3.client_id, http(422), 31), Some(Step::Failed { status: 422 }));
        assert_eq!(e.outbox[1].rejected, Some(422));
        assert_eq!(e.message_outcome(&m3.client_id, http(500), 32), Some(Step::Failed { status: 422 }));
        assert_eq!(e.message_outcome(&m1.client_id, http(201), 33), Some(Step::Done));
        assert_eq!(e.outbox.len(), 1);
        assert_eq!(e.message_outcome("unknown", http(201), 33), None);
    }

    #[test]
    fn a_refused_escalation_is_final_and_kept() {
        let mut s = state();
        let mut e = Escalation::queue(&mut s, &Policy::default(), "key-0123456789abcdef", 0).unwrap();
        assert_eq!(e.on_create(Event::SendRequested, 0), Step::SendNow { attempt: 1 });
        assert_eq!(e.on_create(Event::Http { status: 503, retry_after_ms: Some(5_000) }, 10), Step::WaitUntil { at_ms: 5_010 });
        assert!(!e.create_due(5_009) && e.create_due(5_010));
        assert_eq!(e.on_create(Event::Tick, 5_010), Step::SendNow { attempt: 2 });
        assert_eq!(e.on_create(Event::Http { status: 422, retry_after_ms: None }, 5_020), Step::Failed { status: 422 });
        assert_eq!(e.status, Status::Rejected { attempts: 2, http_status: 422 });
        assert!(!e.create_due(u64::MAX));
        assert!(e.mark_sending(6_000).is_err());
        let back: Escalation = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        let mut ok = Escalation::queue(&mut s, &Policy::default(), "key-0123456789abcdef", 0).unwrap();
        ok.on_create(Event::SendRequested, 0);
        assert_eq!(ok.on_create(Event::Http { status: 201, retry_after_ms: None }, 1), Step::Done);
        assert!(matches!(ok.status, Status::Sending { .. }), "sending until mark_sent records the id");
    }
}
