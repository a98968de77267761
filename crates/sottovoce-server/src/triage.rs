//! An inbox that triages: a priority per open conversation, explained; assignment (take,
//! assign, release); filters; canned replies with variables; colleagues' presence.
//!
//! **The priority** is a sum of points, each with the sentence the inbox shows beside the
//! conversation, so an agent can see why it is where it is:
//! - *waiting*: [`WAIT_POINTS_PER_MINUTE`] per minute since the oldest visitor message no agent
//!   has answered, at most [`WAIT_MAX_POINTS`];
//! - *sentiment*: when the mean sentiment of the visitor's last three messages is at or below
//!   [`UNHAPPY_BELOW`], `round(−sentiment × SENTIMENT_MAX_POINTS)` (at most
//!   [`SENTIMENT_MAX_POINTS`]). Sentiment is the widget's label for agents (`docs/threat-model.md`:
//!   the server trusts nothing from the widget for decisions); a visitor who fakes a low score only
//!   moves their own conversation up the queue, which an agent sees explained;
//! - *tier*: the points the owner gives a customer tier ([`TriageConfig::tiers`]), read from the
//!   profile field [`TriageConfig::tier_field`] (default `traits.tier`, which the widget sends only
//!   when the owner lists it). Counted only when the site's HMAC vouched for the customer id
//!   (identity `verified`): an anonymous visitor cannot claim a tier. The trait itself comes from
//!   the site through the visitor's browser, so a verified customer could raise their own
//!   priority, never pose as someone else.
//!
//! The band is `high` from [`HIGH_FROM`] points, `medium` from [`MEDIUM_FROM`], else `low`. The
//! queue is ordered by points, then by waiting time (longest first), then by age (oldest first).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::agents::Agent;
use crate::error::{ApiJson, AppError};
use crate::event::EventKind;
use crate::identity::Identity;
use crate::store::{now_ms, Conversation};
use crate::triage_store::Assigned;
use crate::AppState;
use sottovoce::protocol::{ConversationStatus, MAX_TEXT_CHARS};

/// Points per minute of waiting.
pub const WAIT_POINTS_PER_MINUTE: f64 = 2.0;
/// Most points waiting can give (20 minutes).
pub const WAIT_MAX_POINTS: i64 = 40;
/// Mean sentiment at or below which a visitor counts as unhappy.
pub const UNHAPPY_BELOW: f64 = -0.1;
/// Points for a mean sentiment of −1.
pub const SENTIMENT_MAX_POINTS: f64 = 40.0;
/// Lowest score in the `high` band.
pub const HIGH_FROM: i64 = 50;
/// Lowest score in the `medium` band.
pub const MEDIUM_FROM: i64 = 20;
/// Variables a canned reply may use; filled per conversation when an agent opens it.
pub const CANNED_VARIABLES: [&str; 4] = ["name", "agent", "customer_id", "locale"];
/// Longest canned-reply title, in characters.
pub const MAX_CANNED_TITLE_CHARS: usize = 80;

/// The owner's triage settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageConfig {
    /// The profile field holding the customer's tier (`traits.tier`).
    pub tier_field: String,
    /// Points per tier value (`gold` → 30), in the order given.
    pub tiers: Vec<(String, i64)>,
}

impl Default for TriageConfig {
    fn default() -> TriageConfig {
        TriageConfig { tier_field: "traits.tier".to_owned(), tiers: Vec::new() }
    }
}

/// Why a `--tier` setting was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid tier {0:?}: expected `value=points`, e.g. `gold=30` (points 0 to 100)")]
pub struct TierError(pub String);

impl TriageConfig {
    /// Parses `value=points` settings (`gold=30`), points 0 to 100.
    ///
    /// # Errors
    /// [`TierError`] naming the first bad setting.
    pub fn parse_tiers<S: AsRef<str>>(settings: &[S]) -> Result<Vec<(String, i64)>, TierError> {
        settings
            .iter()
            .map(|s| {
                let s = s.as_ref();
                let (value, points) = s.split_once('=').ok_or_else(|| TierError(s.to_owned()))?;
                let points: i64 = points.trim().parse().map_err(|_| TierError(s.to_owned()))?;
                if value.trim().is_empty() || !(0..=100).contains(&points) {
                    return Err(TierError(s.to_owned()));
                }
                Ok((value.trim().to_owned(), points))
            })
            .collect()
    }
}

/// A priority band. On the wire: `high`, `medium`, `low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// [`HIGH_FROM`] points or more.
    High,
    /// [`MEDIUM_FROM`] points or more.
    Medium,
    /// Fewer.
    Low,
}

impl Band {
    fn of(score: i64) -> Band {
        if score >= HIGH_FROM {
            Band::High
        } else if score >= MEDIUM_FROM {
            Band::Medium
        } else {
            Band::Low
        }
    }
}

/// What a reason counts. On the wire: `waiting`, `sentiment`, `tier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// Time since an unanswered visitor message.
    Waiting,
    /// The visitor's recent sentiment.
    Sentiment,
    /// The customer's tier.
    Tier,
}

/// One line of a priority's explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// What it counts.
    pub factor: Factor,
    /// Points it adds (0 for a factor shown but not counted).
    pub points: i64,
    /// The sentence the inbox shows, e.g. `waiting 12 min`.
    pub text: String,
}

/// A conversation's place in the queue, explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Priority {
    /// The sum of the reasons' points.
    pub score: i64,
    /// The band the score falls in.
    pub band: Band,
    /// Each factor that applies, largest first.
    pub reasons: Vec<Reason>,
}

/// The priority of `c` at `now_ms` (ms since the Unix epoch) under `config`; see the module
/// documentation for the rule.
pub fn priority(c: &Conversation, config: &TriageConfig, now_ms: i64) -> Priority {
    let mut reasons = Vec::new();
    if let Some(since) = c.waiting_since_ms {
        let minutes = (now_ms - since).max(0) as f64 / 60_000.0;
        let points = ((minutes * WAIT_POINTS_PER_MINUTE).floor() as i64).min(WAIT_MAX_POINTS);
        reasons.push(Reason { factor: Factor::Waiting, points, text: format!("waiting {} min", minutes.floor() as i64) });
    }
    if let Some(s) = c.recent_sentiment.filter(|s| *s <= UNHAPPY_BELOW) {
        let points = ((-s * SENTIMENT_MAX_POINTS).round() as i64).clamp(0, SENTIMENT_MAX_POINTS as i64);
        reasons.push(Reason { factor: Factor::Sentiment, points, text: format!("unhappy (sentiment {s:.2})") });
    }
    if let Some(tier) = c.profile.get(&config.tier_field).and_then(Value::as_str) {
        if let Some((_, points)) = config.tiers.iter().find(|(value, _)| value == tier) {
            if c.identity == Identity::Verified {
                reasons.push(Reason { factor: Factor::Tier, points: *points, text: format!("{tier} customer (verified)") });
            } else {
                reasons.push(Reason { factor: Factor::Tier, points: 0, text: format!("says {tier} customer; not counted: identity unverified") });
            }
        }
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.points));
    let score = reasons.iter().map(|r| r.points).sum();
    Priority { score, band: Band::of(score), reasons }
}

/// A conversation with its priority, as the queue lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Triaged {
    /// The conversation's header.
    #[serde(flatten)]
    pub conversation: Conversation,
    /// Its priority.
    pub priority: Priority,
}

/// Orders `conversations` into the queue: by score, then longest waiting, then oldest.
pub fn queue(conversations: Vec<Conversation>, config: &TriageConfig, now_ms: i64) -> Vec<Triaged> {
    let mut triaged: Vec<Triaged> = conversations
        .into_iter()
        .map(|conversation| Triaged { priority: priority(&conversation, config, now_ms), conversation })
        .collect();
    triaged.sort_by(|a, b| {
        b.priority
            .score
            .cmp(&a.priority.score)
            .then_with(|| a.conversation.waiting_since_ms.unwrap_or(i64::MAX).cmp(&b.conversation.waiting_since_ms.unwrap_or(i64::MAX)))
            .then_with(|| a.conversation.created_ms.cmp(&b.conversation.created_ms))
            .then_with(|| a.conversation.id.cmp(&b.conversation.id))
    });
    triaged
}

/// Query of the conversation list: `status`, `limit`, and for open conversations the filters
/// `assignee` (`me`, `none`), `channel` (`web`, `telegram`…), `locale` (a language, `es`, matches
/// `es-MX`) and `priority` (`high`, `medium`, `low`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    priority: Option<Band>,
}

fn same_language(tag: &str, wanted: &str) -> bool {
    let lang = |t: &str| t.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    if wanted.contains(['-', '_']) {
        tag.eq_ignore_ascii_case(wanted)
    } else {
        lang(tag) == lang(wanted)
    }
}

/// `GET /api/agent/conversations?status=open|resolved&limit=n&assignee=me|none&channel=…&locale=…&priority=high|medium|low`:
/// `{conversations, now_ms}`. Open conversations come as the triaged queue, each with its
/// `priority` (`{score, band, reasons: [{factor, points, text}]}`); resolved ones newest first.
/// At most `limit` (default 100, 1 to 500) conversations are read before filtering.
pub(crate) async fn list(State(state): State<AppState>, agent: Agent, Query(q): Query<ListQuery>) -> Result<Json<Value>, AppError> {
    let status = match q.status.as_deref() {
        None => ConversationStatus::Open,
        Some(name) => ConversationStatus::from_name(name).ok_or_else(|| AppError::invalid("status", "must be `open` or `resolved`"))?,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let now = now_ms();
    let conversations = state.inner.store.list_conversations(status, limit).await?;
    if status != ConversationStatus::Open {
        return Ok(Json(json!({ "conversations": conversations, "now_ms": now })));
    }
    let mine = match q.assignee.as_deref() {
        None => None,
        Some("me") => Some(Some(agent.email.clone())),
        Some("none") => Some(None),
        Some(_) => return Err(AppError::invalid("assignee", "must be `me` or `none`")),
    };
    let queue: Vec<Triaged> = queue(conversations, &state.inner.config.triage, now)
        .into_iter()
        .filter(|t| mine.as_ref().is_none_or(|want| &t.conversation.assignee == want))
        .filter(|t| q.channel.as_deref().is_none_or(|ch| t.conversation.channel == ch))
        .filter(|t| q.locale.as_deref().is_none_or(|l| same_language(&t.conversation.locale, l)))
        .filter(|t| q.priority.is_none_or(|band| t.priority.band == band))
        .collect();
    Ok(Json(json!({ "conversations": queue, "now_ms": now })))
}

/// `POST /api/agent/conversations/{id}/assign` body: `assignee` is `"me"` (take), an agent's
/// email (assign), or `null` (release).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignBody {
    assignee: Option<String>,
}

/// `POST /api/agent/conversations/{id}/assign`: takes, assigns or releases an open conversation;
/// `{id, assignee}`. 422 for an unknown agent, 404 for an unknown conversation, 409 when resolved.
pub(crate) async fn assign(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Json<Value>, AppError> {
    let s = &state.inner;
    let (agent_id, email) = match body.assignee.as_deref() {
        None => (None, None),
        Some("me") => (Some(agent.id), Some(agent.email.clone())),
        Some(other) => {
            let email = crate::agents::normalize_email(other).map_err(|e| AppError::invalid("assignee", e))?;
            let (other_id, _) =
                s.store.agent_by_email(&email).await?.ok_or_else(|| AppError::invalid("assignee", format!("no agent {email}")))?;
            (Some(other_id), Some(email))
        }
    };
    match s.store.assign(&id, agent_id, now_ms()).await? {
        Assigned::Ok => {}
        Assigned::NoConversation => return Err(AppError::NotFound("conversation")),
        Assigned::Resolved => return Err(AppError::Conflict("this conversation is resolved".into())),
    }
    s.live.publish(&s.store, &id, EventKind::Assigned).await;
    Ok(Json(json!({ "id": id, "assignee": email })))
}

/// `GET /api/agent/agents`: `{agents: [{email, presence, assigned_open}]}`, every agent with
/// their presence (`online`, `away`, `offline`) and open assigned conversations.
pub(crate) async fn colleagues(State(state): State<AppState>, _agent: Agent) -> Result<Json<Value>, AppError> {
    let agents = state.inner.store.colleagues(now_ms()).await?;
    Ok(Json(json!({ "agents": agents })))
}

/// `GET /api/agent/canned`: `{canned: [{id, title, text}]}`, variables unfilled.
pub(crate) async fn list_canned(State(state): State<AppState>, _agent: Agent) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "canned": state.inner.store.canned().await? })))
}

/// `POST /api/agent/canned` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCanned {
    title: String,
    text: String,
}

/// Checks a canned reply: a title of 1 to [`MAX_CANNED_TITLE_CHARS`] characters, a text of 1 to
/// `MAX_TEXT_CHARS`, and only the variables of [`CANNED_VARIABLES`], each `{` closed.
///
/// # Errors
/// The field (`title` or `text`) and what is wrong with it.
pub fn check_canned(title: &str, text: &str) -> Result<(), (&'static str, String)> {
    let title_chars = title.trim().chars().count();
    if title_chars == 0 || title_chars > MAX_CANNED_TITLE_CHARS {
        return Err(("title", format!("must have 1 to {MAX_CANNED_TITLE_CHARS} characters")));
    }
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(("text", format!("must have 1 to {MAX_TEXT_CHARS} characters")));
    }
    let every: BTreeMap<String, String> = CANNED_VARIABLES.iter().map(|v| ((*v).to_owned(), String::new())).collect();
    if sottovoce::fill_placeholders(text, &every, str::to_owned).is_none() {
        let names: Vec<String> = CANNED_VARIABLES.iter().map(|v| format!("{{{v}}}")).collect();
        return Err(("text", format!("may use only the variables {} and must close every `{{`", names.join(", "))));
    }
    Ok(())
}

/// `POST /api/agent/canned`: stores a canned reply (see [`check_canned`]); 201 with `{id, title, text}`.
pub(crate) async fn add_canned(State(state): State<AppState>, _agent: Agent, ApiJson(body): ApiJson<NewCanned>) -> Result<Response, AppError> {
    check_canned(&body.title, &body.text).map_err(|(field, message)| AppError::invalid(field, message))?;
    let canned = state.inner.store.add_canned(body.title.trim(), &body.text, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(canned)).into_response())
}

/// `DELETE /api/agent/canned/{id}`: 204, or 404 when there is none.
pub(crate) async fn delete_canned(State(state): State<AppState>, _agent: Agent, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    if state.inner.store.delete_canned(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound("canned reply"))
    }
}
