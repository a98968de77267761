//! Agent sign-in, sessions and the agent API (list, open, reply, resolve, live events).
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes). A
//! session is a 256-bit random token in an `HttpOnly; SameSite=Strict` cookie; the database
//! keeps its SHA-256. Every state-changing agent request takes a JSON body, which a cross-site
//! form cannot send, on top of `SameSite=Strict`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::Stream;
use rand_core::OsRng;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::api::{random_hex, sha256_hex};
use crate::error::{ApiJson, AppError};
use crate::metrics::Counter;
use crate::event::EventKind;
use crate::store::{now_ms, NewMessage};
use sottovoce::protocol::{Author, ConversationStatus, MAX_TEXT_CHARS};
use crate::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "sottovoce_session";
/// How long a session lasts, in seconds (12 hours).
pub const SESSION_SECONDS: i64 = 12 * 60 * 60;

/// Trims and lower-cases an email address; refuses what cannot be one.
///
/// # Errors
/// A sentence saying what is wrong.
pub fn normalize_email(email: &str) -> Result<String, String> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !host.contains('@'))
        && !email.chars().any(char::is_whitespace);
    if ok {
        Ok(email)
    } else {
        Err(format!("{email:?} is not an email address"))
    }
}

/// Hashes a password with argon2id and a random salt (PHC string format).
///
/// # Errors
/// The hasher's message (only for absurd inputs).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the email is unknown, so both cases take the same time.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("no such agent, but take as long").unwrap_or_default())
}

/// The signed-in agent, from the session cookie. Rejects with 401 when there is none.
#[derive(Debug, Clone)]
pub struct Agent {
    /// The agent's id.
    pub id: i64,
    /// The agent's email (shown as the author of their replies).
    pub email: String,
    token_hash: String,
}

fn session_token(parts: &Parts) -> Option<String> {
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookies| {
        cookies.split(';').find_map(|c| c.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('=')).map(str::to_owned))
    })
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = session_token(parts).ok_or(AppError::Unauthorized("sign in first"))?;
        let token_hash = sha256_hex(token.as_bytes());
        let (id, email) = state
            .inner
            .store
            .session_agent(&token_hash, now_ms())
            .await?
            .ok_or(AppError::Unauthorized("your session expired; sign in again"))?;
        Ok(Agent { id, email, token_hash })
    }
}

/// `POST /api/agent/login` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    email: String,
    password: String,
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.inner.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /api/agent/login`: checks the password and sets the session cookie (a new random
/// session id on every sign-in); `{email}`. 429 with `Retry-After` while the account or the
/// client address is backing off after failed attempts ([`crate::limits::LoginThrottle`]).
pub(crate) async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, AppError> {
    let s = &state.inner;
    let email = normalize_email(&body.email).unwrap_or_default();
    let address = crate::limits::client_address(&extensions);
    let account_key = format!("account:{email}");
    let address_key = format!("address:{address}");
    if let Err(seconds) = s.login_accounts.check(&account_key).and(s.login_addresses.check(&address_key)) {
        s.metrics.inc(Counter::RateLimited);
        return Err(AppError::TooManyRequests(seconds));
    }
    let agent = s.store.agent_by_email(&email).await?;
    let hash = agent.as_ref().map(|(_, h)| h.clone()).unwrap_or_else(|| dummy_hash().to_owned());
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let Some((agent_id, _)) = agent.filter(|_| ok) else {
        s.metrics.inc(Counter::LoginFailed);
        s.login_accounts.fail(&account_key);
        s.login_addresses.fail(&address_key);
        return Err(AppError::Unauthorized("wrong email or password"));
    };
    s.login_accounts.succeed(&account_key);
    s.login_addresses.succeed(&address_key);
    let token = random_hex(32);
    let now = now_ms();
    s.store.create_session(&sha256_hex(token.as_bytes()), agent_id, now, now + SESSION_SECONDS * 1000).await?;
    s.metrics.inc(Counter::LoginOk);
    let mut response = Json(json!({ "email": email })).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie(&state, &token, SESSION_SECONDS));
    Ok(response)
}

/// `POST /api/agent/logout` (body `{}`): ends the session and clears the cookie.
pub(crate) async fn logout(State(state): State<AppState>, agent: Agent, ApiJson(_): ApiJson<Value>) -> Result<Response, AppError> {
    state.inner.store.delete_session(&agent.token_hash).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie(&state, "", 0));
    Ok(response)
}

/// `GET /api/agent/me`: `{email, role}` of the signed-in agent (`role`: `agent` or `owner`),
/// `{email: null}` without a session
/// (a 200 either way: the inbox asks this on every load, and "not signed in" is no error).
pub(crate) async fn me(State(state): State<AppState>, mut parts: Parts) -> Result<Json<Value>, AppError> {
    match Agent::from_request_parts(&mut parts, &state).await {
        Ok(agent) => Ok(Json(json!({ "email": agent.email, "role": state.inner.store.agent_role(agent.id).await?.unwrap_or_else(|| "agent".to_owned()) }))),
        Err(AppError::Unauthorized(_)) => Ok(Json(json!({ "email": null }))),
        Err(e) => Err(e),
    }
}

/// `GET /api/agent/conversations/{id}`: `{conversation, summary, messages, suggestions, canned}`:
/// the agent-assist summary ([`crate::assist::summarise`]), and the canned replies filled for this conversation ([`crate::triage_store::fill_canned`]).
pub(crate) async fn open(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let s = &state.inner;
    let conversation = s.store.conversation(&id).await?.ok_or(AppError::NotFound("conversation"))?;
    let messages = s.store.messages_after(&id, 0).await?;
    let last_intent = messages.iter().rev().filter(|m| m.author == Author::Visitor).find_map(|m| m.intent.clone());
    let suggestions = match (&s.suggestions, last_intent) {
        (Some(suggester), Some(intent)) => {
            let mut args = BTreeMap::new();
            if let Some(name) = conversation.profile.get("name").and_then(Value::as_str) {
                args.insert("name".to_owned(), name.to_owned());
            }
            suggester.suggest(&intent, &conversation.locale, args).await
        }
        _ => Vec::new(),
    };
    let canned = crate::triage_store::fill_canned(&s.store.canned().await?, &conversation, &agent.email);
    let mut summary = crate::assist::summarise(&messages);
    if let Some(suggester) = &s.suggestions {
        let texts = messages.iter().filter(|m| m.author == Author::Visitor).map(|m| m.text.clone()).collect();
        summary.mentions = suggester.mentions(texts).await;
    }
    Ok(Json(json!({ "conversation": conversation, "summary": summary, "messages": messages, "suggestions": suggestions, "canned": canned })))
}

/// `POST /api/agent/conversations/{id}/messages` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reply {
    text: String,
}

/// `POST /api/agent/conversations/{id}/messages`: the agent replies; 201 with the message.
pub(crate) async fn reply(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<Response, AppError> {
    let s = &state.inner;
    if body.text.trim().is_empty() || body.text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid("text", format!("must have 1 to {MAX_TEXT_CHARS} characters")));
    }
    let (status, _) = s.store.conversation_auth(&id).await?.ok_or(AppError::NotFound("conversation"))?;
    if status != ConversationStatus::Open {
        return Err(AppError::Conflict("this conversation is resolved".into()));
    }
    let name = agent.email.split('@').next().unwrap_or("agent").to_owned();
    let new = NewMessage { author_name: Some(name), ..NewMessage::new(Author::Agent, crate::redact::card_numbers(&body.text), now_ms()) };
    let (message, _) = s.store.add_message(&id, &new).await?;
    s.metrics.inc(Counter::AgentMessage);
    // The `message.created` webhook was queued in the same transaction.
    s.live.publish(&s.store, &id, EventKind::Message).await;
    Ok((StatusCode::CREATED, Json(message)).into_response())
}

/// `POST /api/agent/conversations/{id}/resolve` (body `{}`): closes the conversation.
pub(crate) async fn resolve(
    State(state): State<AppState>,
    _agent: Agent,
    Path(id): Path<String>,
    ApiJson(_): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let s = &state.inner;
    let now = now_ms();
    if !s.store.resolve(&id, now).await? {
        return match s.store.conversation_auth(&id).await? {
            None => Err(AppError::NotFound("conversation")),
            Some(_) => Err(AppError::Conflict("this conversation is already resolved".into())),
        };
    }
    s.metrics.inc(Counter::Resolved);
    s.live.publish(&s.store, &id, EventKind::Resolved).await;
    if let Some(webhooks) = &s.webhooks {
        webhooks.wake(); // the store queued escalation.resolved with the update
    }
    Ok(Json(json!({ "id": id, "status": ConversationStatus::Resolved, "resolved_ms": now })))
}

/// `GET /api/agent/events`: Server-Sent Events; a `change` event `{conversation_id, kind}`
/// (`created`, `message`, `resolved`, or `resync` after missed events) whenever any
/// conversation changes. 429 with `Retry-After` when the agent already has
/// [`crate::Limits::streams_per_agent`] streams open, or the client address
/// [`crate::Limits::streams_per_address`].
pub(crate) async fn events(
    State(state): State<AppState>,
    agent: Agent,
    extensions: axum::http::Extensions,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    let s = &state.inner;
    let address = crate::limits::client_address(&extensions);
    let slot = s
        .address_streams
        .acquire(&address)
        .zip(s.agent_streams.acquire(&agent.id.to_string()))
        .ok_or(AppError::TooManyRequests(15))?;
    s.metrics.inc(Counter::SseOpened);
    let rx = s.live.subscribe();
    let stream = futures_util::stream::unfold((rx, slot), |(mut rx, slot)| async move {
        let data = match rx.recv().await {
            Ok(event) => json!({ "conversation_id": event.conversation_id, "kind": event.kind }),
            Err(broadcast::error::RecvError::Lagged(_)) => json!({ "conversation_id": null, "kind": "resync" }),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        // The slot lives as long as the stream: axum drops the stream when the client goes away.
        Some((Ok(SseEvent::default().event("change").data(data.to_string())), (rx, slot)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
