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
use sottovoce::protocol::{Author, ConversationStatus, EscalationCreated, EscalationRequest, VisitorMessage, CUSTOMER_ID_FIELD};
use tokio::sync::broadcast;

use crate::error::{ApiJson, AppError};
use crate::event::{Event, EventKind};
use crate::metrics::Counter;
use crate::store::{now_ms, Created, NewConversation, NewMessage, Store};
use crate::AppState;

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

/// The first transcript author that is not a wire name the protocol knows, as a field error:
/// the typed request would only say "unknown variant" (400), while the client needs the field (422).
fn check_authors(body: &Value) -> Result<(), AppError> {
    let messages = body.get("transcript").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    for (i, m) in messages.iter().enumerate() {
        if let Some(author) = m.get("author").and_then(Value::as_str) {
            if Author::from_name(author).is_none() {
                return Err(AppError::invalid(format!("transcript[{i}].author"), "must be `visitor` or `bot`"));
            }
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
    check_authors(&body)?;
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
        sottovoce::protocol::validate_idempotency_key(k)?;
    }
    req.validate(&s.config.profile_fields)?;
    let now = now_ms();
    let mut transcript = Vec::with_capacity(req.transcript.len());
    for m in req.transcript {
        let at_ms = m.at_ms.and_then(|t| i64::try_from(t).ok());
        transcript.push(NewMessage {
            author: m.author,
            author_name: None,
            text: crate::redact::card_numbers(&m.text),
            created_ms: at_ms.filter(|t| *t > 0 && *t <= now).unwrap_or(now),
            intent: m.intent,
            confidence: m.confidence,
            sentiment: m.sentiment,
            client_id: None,
        });
    }

    // A server that does not list `customer_id` drops it (the message still arrives).
    let customer = req.customer.filter(|_| s.config.profile_fields.iter().any(|f| f == CUSTOMER_ID_FIELD));
    let customer_id = customer.as_ref().map(|c| c.id.clone());
    let identity = crate::identity::verify(
        s.config.identity_secret.as_deref(),
        customer_id.as_deref(),
        customer.as_ref().and_then(|c| c.user_hash.as_deref()),
    );
    let id = format!("c_{}", random_hex(16));
    let token = random_hex(32);
    let body_hash = sha256_hex(canonical.as_bytes());
    let conversation = NewConversation {
        id: id.clone(),
        locale: req.locale,
        bot_id: req.bot_id,
        page_url: req.page_url,
        profile_json: Value::Object(req.profile.into_iter().collect()).to_string(),
        customer_id,
        identity,
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
                s.live.publish(&s.store, &id, EventKind::Created).await;
            }
            // The `escalation.created` webhook was queued in the same transaction.
            let body = EscalationCreated { id, token, status: ConversationStatus::Open, created_ms: now };
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
            let body = EscalationCreated { id: replay.id, token, status, created_ms: replay.created_ms };
            Ok((StatusCode::OK, Json(body)).into_response())
        }
    }
}

/// Checks the visitor's token (bearer header, or `token` query parameter for `EventSource`,
/// which cannot set headers) and returns the conversation's status. Besides the token of the
/// escalation, the tokens of a resume link or another device ([`crate::omni`]) are accepted.
pub(crate) async fn authorize_visitor(store: &Store, id: &str, headers: &HeaderMap, query_token: Option<&str>) -> Result<ConversationStatus, AppError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or(query_token)
        .ok_or(AppError::Unauthorized("missing visitor token (Authorization: Bearer <token>)"))?;
    let (status, hash) = store.conversation_auth(id).await?.ok_or(AppError::NotFound("conversation"))?;
    let given = sha256_hex(token.trim().as_bytes());
    if !constant_time_eq(&given, &hash) && !store.has_visitor_token(id, &given).await? {
        return Err(AppError::Unauthorized("wrong visitor token for this conversation"));
    }
    Ok(status)
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
    body.validate()?;
    if status != ConversationStatus::Open {
        return Err(AppError::Conflict("this conversation was resolved; start a new one".into()));
    }
    if let Err(seconds) = s.conversation_limiter.check(&id) {
        s.metrics.inc(Counter::RateLimited);
        return Err(AppError::TooManyRequests(seconds));
    }
    let new = NewMessage {
        intent: body.intent,
        confidence: body.confidence,
        sentiment: body.sentiment,
        client_id: body.client_id,
        ..NewMessage::new(Author::Visitor, crate::redact::card_numbers(&body.text), now_ms())
    };
    let (message, created) = s.store.add_message(&id, &new).await?;
    if !created {
        return Ok((StatusCode::OK, Json(message)).into_response());
    }
    s.metrics.inc(Counter::VisitorMessage);
    // The `message.created` webhook was queued in the same transaction.
    s.live.publish(&s.store, &id, EventKind::Message).await;
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
/// `last_event_id` query), `status` events carry `{"status": "resolved"}`. 429 with
/// `Retry-After` when the conversation already has [`crate::Limits::streams_per_conversation`]
/// streams open, or the client address [`crate::Limits::streams_per_address`].
pub(crate) async fn visitor_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Query(q): Query<AfterQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    let s = &state.inner;
    let rx = s.live.subscribe();
    let status = authorize_visitor(&s.store, &id, &headers, q.token.as_deref()).await?;
    let address = crate::limits::client_address(&extensions);
    let slot = s
        .address_streams
        .acquire(&address)
        .zip(s.visitor_streams.acquire(&id))
        .ok_or(AppError::TooManyRequests(15))?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.last_event_id)
        .or(q.after)
        .unwrap_or(0);
    s.metrics.inc(Counter::SseOpened);
    // The slot lives as long as the stream: axum drops the stream when the client goes away.
    let stream = futures_util::StreamExt::map(conversation_stream(s.store.clone(), rx, id, last, status), move |event| {
        let _held = &slot;
        event
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct StreamState {
    store: Store,
    rx: broadcast::Receiver<Event>,
    id: String,
    last: i64,
    /// The status last announced; `None` before the first read.
    status: Option<ConversationStatus>,
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
    status: ConversationStatus,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    // A stream opened on a resolved conversation says so once, after the messages.
    let status = Some(status).filter(|s| *s != ConversationStatus::Resolved);
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
                if Some(status) != st.status {
                    if status == ConversationStatus::Resolved {
                        st.pending.push_back(SseEvent::default().event("status").data(json!({ "status": status }).to_string()));
                    }
                    st.status = Some(status);
                }
            }
        }
    })
}
