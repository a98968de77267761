//! The visitor API: create an escalation, post and read messages, stream replies.
//!
//! The visitor proves who they are with the bearer token returned at creation (256 random bits
//! from the OS), never with anything else the client claims. See `inbox/../openapi.json` for the
//! exact shapes.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::Stream;
use rand_core::{OsRng, RngCore};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

use crate::error::{ApiJson, AppError};
use crate::live::Event;
use crate::metrics::Counter;
use crate::store::{now_ms, Created, NewConversation, NewMessage, Store};
use crate::AppState;

/// Longest message text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most transcript messages one escalation may carry.
pub const MAX_TRANSCRIPT: usize = 500;

/// `n` random bytes from the OS, as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of `data`, as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares two strings in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The pad a token is XORed with so that only the holder of the idempotency key can unseal it.
fn seal(token_hex: &str, idempotency_key: &str) -> String {
    let pad = Sha256::digest(format!("sottovoce-token-seal:{idempotency_key}").as_bytes());
    let token = hex::decode(token_hex).unwrap_or_default();
    hex::encode(token.iter().zip(pad.iter()).map(|(t, p)| t ^ p).collect::<Vec<u8>>())
}

/// A message of the transcript the widget sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TranscriptMessage {
    author: String,
    text: String,
    #[serde(default)]
    at_ms: Option<i64>,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    sentiment: Option<f64>,
}

/// `POST /api/escalations` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalationRequest {
    #[serde(default)]
    idempotency_key: Option<String>,
    locale: String,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    page_url: Option<String>,
    #[serde(default)]
    profile: serde_json::Map<String, Value>,
    transcript: Vec<TranscriptMessage>,
}

fn check_text(field: &str, text: &str) -> Result<(), AppError> {
    if text.trim().is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid(field, format!("longer than {MAX_TEXT_CHARS} characters")));
    }
    Ok(())
}

fn check_annotations(field: &str, intent: &Option<String>, confidence: Option<f64>, sentiment: Option<f64>) -> Result<(), AppError> {
    if let Some(intent) = intent {
        if intent.is_empty() || intent.len() > 100 {
            return Err(AppError::invalid(format!("{field}.intent"), "must have 1 to 100 characters"));
        }
    }
    if let Some(c) = confidence {
        if !(0.0..=1.0).contains(&c) {
            return Err(AppError::invalid(format!("{field}.confidence"), "must be between 0 and 1"));
        }
    }
    if let Some(s) = sentiment {
        if !(-1.0..=1.0).contains(&s) {
            return Err(AppError::invalid(format!("{field}.sentiment"), "must be between -1 and 1"));
        }
    }
    Ok(())
}

/// `POST /api/escalations`: stores the escalation; answers 201 with `{id, token, status,
/// created_ms}`, or 200 with the same body for a retry with the same idempotency key (from the
/// `Idempotency-Key` header or the `idempotency_key` field).
pub(crate) async fn create_escalation(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let s = &state.inner;
    let canonical = body.to_string();
    let req: EscalationRequest =
        serde_json::from_value(body).map_err(|e| AppError::BadRequest(format!("invalid escalation: {e}")))?;
    let header_key = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or("").to_owned());
    let key = match (header_key, req.idempotency_key.clone()) {
        (Some(h), Some(b)) if h != b => {
            return Err(AppError::invalid("idempotency_key", "differs from the Idempotency-Key header"))
        }
        (Some(k), _) | (None, Some(k)) => Some(k),
        (None, None) => None,
    };
    if let Some(k) = &key {
        if !(16..=200).contains(&k.len()) || !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::invalid("idempotency_key", "must be 16 to 200 printable ASCII characters"));
        }
    }
    if req.locale.is_empty() || req.locale.len() > 35 || !req.locale.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(AppError::invalid("locale", "must be a BCP 47 tag such as `en` or `es-MX`"));
    }
    if let Some(bot_id) = &req.bot_id {
        if bot_id.len() > 100 {
            return Err(AppError::invalid("bot_id", "longer than 100 characters"));
        }
    }
    if let Some(url) = &req.page_url {
        let lower = url.to_ascii_lowercase();
        if url.len() > 2000 || !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(AppError::invalid("page_url", "must be an http(s) URL of at most 2000 characters"));
        }
    }
    for (name, value) in &req.profile {
        if !s.config.profile_fields.iter().any(|f| f == name) {
            return Err(AppError::invalid(
                format!("profile.{name}"),
                format!("is not a profile field this server accepts (allowed: {})", s.config.profile_fields.join(", ")),
            ));
        }
        let ok = match value {
            Value::String(text) => text.chars().count() <= 500,
            Value::Number(_) | Value::Bool(_) | Value::Null => true,
            _ => false,
        };
        if !ok {
            return Err(AppError::invalid(format!("profile.{name}"), "must be a string of at most 500 characters, a number or a boolean"));
        }
    }
    if req.transcript.is_empty() || req.transcript.len() > MAX_TRANSCRIPT {
        return Err(AppError::invalid("transcript", format!("must hold 1 to {MAX_TRANSCRIPT} messages")));
    }
    let now = now_ms();
    let mut transcript = Vec::with_capacity(req.transcript.len());
    for (i, m) in req.transcript.into_iter().enumerate() {
        let field = format!("transcript[{i}]");
        if m.author != "visitor" && m.author != "bot" {
            return Err(AppError::invalid(format!("{field}.author"), "must be `visitor` or `bot`"));
        }
        check_text(&format!("{field}.text"), &m.text)?;
        check_annotations(&field, &m.intent, m.confidence, m.sentiment)?;
        transcript.push(NewMessage {
            author: m.author,
            author_name: None,
            text: crate::redact::card_numbers(&m.text),
            created_ms: m.at_ms.filter(|t| *t > 0 && *t <= now).unwrap_or(now),
            intent: m.intent,
            confidence: m.confidence,
            sentiment: m.sentiment,
            client_id: None,
        });
    }

    let id = format!("c_{}", random_hex(16));
    let token = random_hex(32);
    let body_hash = sha256_hex(canonical.as_bytes());
    let conversation = NewConversation {
        id: id.clone(),
        locale: req.locale,
        bot_id: req.bot_id,
        page_url: req.page_url,
        profile_json: Value::Object(req.profile).to_string(),
        token_hash: sha256_hex(token.as_bytes()),
        idem_key_hash: key.as_ref().map(|k| sha256_hex(k.as_bytes())),
        token_sealed: key.as_ref().map(|k| seal(&token, k)),
        body_hash: Some(body_hash.clone()),
        created_ms: now,
        transcript,
    };
    match s.store.create_conversation(&conversation).await? {
        Created::New => {
            s.metrics.inc(Counter::EscalationCreated);
            // PostgreSQL: the store notified inside the creating transaction.
            if s.store.backend() == crate::store::Backend::Sqlite {
                s.live.publish(&s.store, &id, "created").await;
            }
            if let Some(webhooks) = &s.webhooks {
                if let Some(header) = s.store.conversation(&id).await? {
                    let messages = s.store.messages_after(&id, 0).await?;
                    webhooks.send("escalation.created", json!({ "conversation": header, "messages": messages })).await;
                }
            }
            let body = json!({ "id": id, "token": token, "status": "open", "created_ms": now });
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        Created::Replayed(replay) => {
            if replay.body_hash != body_hash {
                return Err(AppError::invalid("idempotency_key", "was already used for a different escalation"));
            }
            s.metrics.inc(Counter::EscalationReplayed);
            let key = key.unwrap_or_default();
            let token = seal(&replay.token_sealed, &key);
            let status = s.store.conversation_auth(&replay.id).await?.map(|(status, _)| status).unwrap_or_default();
            let body = json!({ "id": replay.id, "token": token, "status": status, "created_ms": replay.created_ms });
            Ok((StatusCode::OK, Json(body)).into_response())
        }
    }
}

/// Checks the visitor's token (bearer header, or `token` query parameter for `EventSource`,
/// which cannot set headers) and returns the conversation's status.
async fn authorize_visitor(store: &Store, id: &str, headers: &HeaderMap, query_token: Option<&str>) -> Result<String, AppError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or(query_token)
        .ok_or(AppError::Unauthorized("missing visitor token (Authorization: Bearer <token>)"))?;
    let (status, hash) = store.conversation_auth(id).await?.ok_or(AppError::NotFound("conversation"))?;
    if !constant_time_eq(&sha256_hex(token.trim().as_bytes()), &hash) {
        return Err(AppError::Unauthorized("wrong visitor token for this conversation"));
    }
    Ok(status)
}

/// `POST /api/escalations/{id}/messages` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VisitorMessage {
    text: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    sentiment: Option<f64>,
}

/// `POST /api/escalations/{id}/messages`: the visitor writes to the agent. 201 with the
/// message; 200 with the earlier one when `client_id` was already stored.
pub(crate) async fn post_visitor_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<VisitorMessage>,
) -> Result<Response, AppError> {
    let s = &state.inner;
    let status = authorize_visitor(&s.store, &id, &headers, None).await?;
    check_text("text", &body.text)?;
    check_annotations("message", &body.intent, body.confidence, body.sentiment)?;
    if let Some(client_id) = &body.client_id {
        if client_id.is_empty() || client_id.len() > 100 {
            return Err(AppError::invalid("client_id", "must have 1 to 100 characters"));
        }
    }
    if status != "open" {
        return Err(AppError::Conflict("this conversation was resolved; start a new one".into()));
    }
    if let Err(seconds) = s.conversation_limiter.check(&id) {
        s.metrics.inc(Counter::RateLimited);
        return Err(AppError::TooManyRequests(seconds));
    }
    let new = NewMessage {
        author: "visitor".into(),
        text: crate::redact::card_numbers(&body.text),
        created_ms: now_ms(),
        intent: body.intent,
        confidence: body.confidence,
        sentiment: body.sentiment,
        client_id: body.client_id,
        ..NewMessage::default()
    };
    let (message, created) = s.store.add_message(&id, &new).await?;
    if !created {
        return Ok((StatusCode::OK, Json(message)).into_response());
    }
    s.metrics.inc(Counter::VisitorMessage);
    s.live.publish(&s.store, &id, "message").await;
    if let Some(webhooks) = &s.webhooks {
        webhooks.send("message.created", json!({ "conversation_id": id, "message": message })).await;
    }
    Ok((StatusCode::CREATED, Json(message)).into_response())
}

/// Query of the message list and stream.
#[derive(Debug, Deserialize)]
pub(crate) struct AfterQuery {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    last_event_id: Option<i64>,
    #[serde(default)]
    token: Option<String>,
}

/// `GET /api/escalations/{id}/messages?after=<id>`: `{id, status, messages}` (oldest first).
pub(crate) async fn list_visitor_messages(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<AfterQuery>,
) -> Result<Json<Value>, AppError> {
    let s = &state.inner;
    let status = authorize_visitor(&s.store, &id, &headers, None).await?;
    let messages = s.store.messages_after(&id, q.after.unwrap_or(0)).await?;
    Ok(Json(json!({ "id": id, "status": status, "messages": messages })))
}

/// `GET /api/escalations/{id}/events`: Server-Sent Events. `message` events carry a message
/// (event id = message id) for every message after `Last-Event-ID` (header, or `after` /
/// `last_event_id` query), `status` events carry `{"status": "resolved"}`.
pub(crate) async fn visitor_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<AfterQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    let s = &state.inner;
    let rx = s.live.subscribe();
    let status = authorize_visitor(&s.store, &id, &headers, q.token.as_deref()).await?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.last_event_id)
        .or(q.after)
        .unwrap_or(0);
    s.metrics.inc(Counter::SseOpened);
    let stream = conversation_stream(s.store.clone(), rx, id, last, status);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct StreamState {
    store: Store,
    rx: broadcast::Receiver<Event>,
    id: String,
    last: i64,
    status: String,
    pending: VecDeque<SseEvent>,
    first: bool,
}

/// Waits until `id` changes (or the broadcast lagged, or 15 s passed: then re-read anyway).
async fn wait_for_change(rx: &mut broadcast::Receiver<Event>, id: &str) {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(event) if event.conversation_id == id => return,
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(15), wait).await;
}

/// The messages of one conversation after `last`, then every new one as it is stored.
pub(crate) fn conversation_stream(
    store: Store,
    rx: broadcast::Receiver<Event>,
    id: String,
    last: i64,
    status: String,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    // A stream opened on a resolved conversation says so once, after the messages.
    let status = if status == "resolved" { String::new() } else { status };
    let state = StreamState { store, rx, id, last, status, pending: VecDeque::new(), first: true };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(event) = st.pending.pop_front() {
                return Some((Ok(event), st));
            }
            if !st.first {
                wait_for_change(&mut st.rx, &st.id).await;
            }
            st.first = false;
            match st.store.messages_after(&st.id, st.last).await {
                Ok(messages) => {
                    for m in messages {
                        st.last = m.id;
                        let event = SseEvent::default().event("message").id(m.id.to_string());
                        st.pending.push_back(event.json_data(&m).unwrap_or_default());
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "stream read failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            if let Ok(Some((status, _))) = st.store.conversation_auth(&st.id).await {
                if status != st.status {
                    if status == "resolved" {
                        st.pending.push_back(SseEvent::default().event("status").data(json!({ "status": status }).to_string()));
                    }
                    st.status = status;
                }
            }
        }
    })
}
