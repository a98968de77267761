//! What a finished form hands to the shop once the visitor said yes: sales leads, newsletter
//! sign-ups and back-in-stock requests ([`Submission`], issue 20 items 3 and 5).
//!
//! The widget shows the form's fields exactly as they would leave and sends them only after
//! "Send" (`www/sottovoce.js`, `offerSubmission`). The server checks them field by field,
//! redacts card numbers again, stores each once per random id, and hands each to the shop's
//! signed webhook ([`crate::webhook`]) as `lead.created`, `newsletter.subscribed` or
//! `back_in_stock.requested`. Agents read them in the inbox (`/inbox/leads.html`), apart from
//! escalations.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sottovoce::protocol::{Submission, SubmissionKind};
use sqlx::Row;

use crate::agents::Agent;
use crate::api::sha256_hex;
use crate::error::{ApiJson, AppError};
use crate::store::{now_ms, Store};
use crate::AppState;

/// Most submissions one list returns, newest first.
pub const MAX_LIST: i64 = 500;

/// A stored submission, as the inbox and the webhook see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// The server's id (increasing).
    pub id: i64,
    /// Lead, newsletter or back in stock.
    pub kind: SubmissionKind,
    /// The visitor's locale.
    pub locale: String,
    /// The form's fields, card numbers redacted.
    pub fields: BTreeMap<String, String>,
    /// When the server received it, ms since the Unix epoch.
    pub received_ms: i64,
}

/// The webhook event for a kind: `lead.created`, `newsletter.subscribed`,
/// `back_in_stock.requested`.
pub fn event(kind: SubmissionKind) -> &'static str {
    match kind {
        SubmissionKind::Lead => "lead.created",
        SubmissionKind::Newsletter => "newsletter.subscribed",
        SubmissionKind::BackInStock => "back_in_stock.requested",
    }
}

fn kind_from(name: &str) -> Option<SubmissionKind> {
    SubmissionKind::ALL.into_iter().find(|k| k.as_str() == name)
}

impl Store {
    /// Stores `s` (fields already redacted) under `id_hash`; `None` when that id was stored
    /// before (a retry), else the new row. With a webhook configured its delivery
    /// ([`event`]) is queued in the same transaction, so a crash can lose neither alone.
    ///
    /// # Errors
    /// Database failures (nothing is stored then).
    pub async fn put_submission(&self, id_hash: &str, s: &Submission, now_ms: i64) -> Result<Option<Stored>, sqlx::Error> {
        let fields = serde_json::to_string(&s.fields).expect("a map of strings serializes");
        let mut tx = self.writer().begin().await?;
        let row = sqlx::query(
            "INSERT INTO submissions (id_hash, kind, locale, fields, received_ms) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id_hash) DO NOTHING RETURNING id",
        )
        .bind(id_hash)
        .bind(s.kind.as_str())
        .bind(&s.locale)
        .bind(&fields)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored = Stored { id: row.try_get("id")?, kind: s.kind, locale: s.locale.clone(), fields: s.fields.clone(), received_ms: now_ms };
        if self.queues_webhooks() {
            crate::store::queue_event(&mut tx, event(stored.kind), &json!({ "submission": stored })).await?;
        }
        tx.commit().await?;
        Ok(Some(stored))
    }

    /// Submissions of `kind` (all kinds for `None`), newest first, at most [`MAX_LIST`].
    ///
    /// # Errors
    /// Database failures (a row whose stored fields no longer parse is one too).
    pub async fn submissions(&self, kind: Option<SubmissionKind>) -> Result<Vec<Stored>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, kind, locale, fields, received_ms FROM submissions WHERE ($1 = '' OR kind = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(kind.map_or("", SubmissionKind::as_str))
        .bind(MAX_LIST)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let fields: String = r.try_get("fields")?;
                Ok(Stored {
                    id: r.try_get("id")?,
                    kind: kind_from(&kind).ok_or_else(|| sqlx::Error::Decode(format!("unknown submission kind `{kind}`").into()))?,
                    locale: r.try_get("locale")?,
                    fields: serde_json::from_str(&fields).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    received_ms: r.try_get("received_ms")?,
                })
            })
            .collect()
    }
}

/// `POST /api/submissions`: a finished form's fields the visitor agreed to send
/// ([`Submission`]). 201 `{id, kind}` when stored now (and handed to the webhook), 200 for a
/// retry of the same id; 422 naming the field when it breaks [`Submission::validate`].
pub(crate) async fn submit(State(state): State<AppState>, ApiJson(mut body): ApiJson<Submission>) -> Result<Response, AppError> {
    body.validate()?;
    for value in body.fields.values_mut() {
        *value = crate::redact::card_numbers(value);
    }
    let s = &state.inner;
    let Some(stored) = s.store.put_submission(&sha256_hex(body.id.as_bytes()), &body, now_ms()).await? else {
        return Ok((StatusCode::OK, Json(json!({ "kind": body.kind, "stored": "before" }))).into_response());
    };
    if let Some(webhooks) = &s.webhooks {
        webhooks.wake();
    }
    Ok((StatusCode::CREATED, Json(json!({ "id": stored.id, "kind": stored.kind }))).into_response())
}

/// `GET /api/agent/submissions?kind=lead` query.
#[derive(Debug, Deserialize)]
pub(crate) struct KindQuery {
    #[serde(default)]
    kind: Option<String>,
}

/// `GET /api/agent/submissions[?kind=lead|newsletter|back_in_stock]` (signed-in agent):
/// `{submissions: [...]}`, newest first. 422 for another kind.
pub(crate) async fn list(State(state): State<AppState>, _agent: Agent, Query(q): Query<KindQuery>) -> Result<Json<serde_json::Value>, AppError> {
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(name) => Some(kind_from(name).ok_or_else(|| AppError::invalid("kind", "must be lead, newsletter or back_in_stock"))?),
    };
    Ok(Json(json!({ "submissions": state.inner.store.submissions(kind).await? })))
}
