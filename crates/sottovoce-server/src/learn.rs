//! What visitors agreed to share to improve the bot: questions it could not answer (and the
//! suggestion they then picked), in; for owners, the same questions grouped by similarity, and
//! a JSONL export that `sottovoce suggest` turns into a definition patch.
//!
//! The widget sends a [`SharedQuestion`] only after the visitor pressed "Send it" under the
//! exact, redacted text (`www/sottovoce.js`, `offerShare`). The server redacts card numbers
//! again, stores it once per random id, and dates it by its own clock.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sottovoce::protocol::SharedQuestion;
use sqlx::Row;
use std::collections::BTreeMap;

use crate::agents::Agent;
use crate::api::sha256_hex;
use crate::error::{ApiJson, AppError};
use crate::owner::{utc_day, Period};
use crate::store::{now_ms, Store};
use crate::AppState;

/// Least word overlap ([`sottovoce::jaccard`] of [`sottovoce::word_set`]) for two questions to
/// share a group: the same value a visitor's lessons use.
pub const GROUP_SIMILARITY: f32 = 0.5;
/// Most questions read for the owner's view, newest first.
pub const MAX_READ: i64 = 5000;
/// Examples kept per group.
pub const EXAMPLES: usize = 5;

/// A stored shared question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    /// The visitor's locale.
    pub locale: String,
    /// The intent of the suggestion picked after it, if any.
    pub intent: Option<String>,
    /// The redacted question.
    pub text: String,
}

impl Store {
    /// Stores a shared question under `id_hash` (a second copy is ignored).
    ///
    /// # Errors
    /// Database failures.
    pub async fn put_shared_question(&self, id_hash: &str, day: &str, q: &SharedQuestion, text: &str, now_ms: i64) -> Result<(), sqlx::Error> {
        let kind = if q.intent.is_some() { "pick" } else { "unmatched" };
        sqlx::query(
            "INSERT INTO shared_questions (id_hash, day, locale, kind, intent, text, received_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id_hash) DO NOTHING",
        )
        .bind(id_hash)
        .bind(day)
        .bind(&q.locale)
        .bind(kind)
        .bind(q.intent.as_deref())
        .bind(text)
        .bind(now_ms)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The shared questions dated `from` or later, newest first, at most [`MAX_READ`].
    ///
    /// # Errors
    /// Database failures.
    pub async fn shared_questions(&self, from: &str) -> Result<Vec<Stored>, sqlx::Error> {
        let rows = sqlx::query("SELECT day, locale, intent, text FROM shared_questions WHERE day >= $1 ORDER BY id DESC LIMIT $2")
            .bind(from)
            .bind(MAX_READ)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| Ok(Stored { day: r.try_get("day")?, locale: r.try_get("locale")?, intent: r.try_get("intent")?, text: r.try_get("text")? }))
            .collect()
    }
}

/// `POST /api/feedback`: stores a question the visitor agreed to share ([`SharedQuestion`]);
/// 204. 422 naming the field when it breaks [`SharedQuestion::validate`].
pub(crate) async fn share(State(state): State<AppState>, ApiJson(body): ApiJson<SharedQuestion>) -> Result<StatusCode, AppError> {
    body.validate()?;
    let now = now_ms();
    let text = crate::redact::card_numbers(&body.text);
    state.inner.store.put_shared_question(&sha256_hex(body.id.as_bytes()), &utc_day(now), &body, &text, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Questions alike, as the owner's view lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// How many questions.
    pub count: usize,
    /// Up to [`EXAMPLES`] of them, newest first; the first stands for the group.
    pub examples: Vec<String>,
    /// Questions per locale.
    pub locales: BTreeMap<String, usize>,
    /// For picks: how often each intent was picked.
    pub picked: BTreeMap<String, usize>,
}

/// Groups `questions` (newest first): each joins the first group whose first example shares at
/// least [`GROUP_SIMILARITY`] of its words, else starts one; groups come largest first (ties:
/// the newest first). One pass, as `sottovoce suggest`'s clustering is for the offline patch.
pub fn group(questions: &[Stored]) -> Vec<Group> {
    let mut groups: Vec<(Vec<String>, Group)> = Vec::new();
    for q in questions {
        let words = sottovoce::word_set(&q.text);
        let at = groups.iter().position(|(head, _)| sottovoce::jaccard(head, &words) >= GROUP_SIMILARITY);
        let g = match at {
            Some(i) => &mut groups[i].1,
            None => {
                groups.push((words, Group { count: 0, examples: Vec::new(), locales: BTreeMap::new(), picked: BTreeMap::new() }));
                &mut groups.last_mut().expect("just pushed").1
            }
        };
        g.count += 1;
        if g.examples.len() < EXAMPLES && !g.examples.contains(&q.text) {
            g.examples.push(q.text.clone());
        }
        *g.locales.entry(q.locale.clone()).or_default() += 1;
        if let Some(intent) = &q.intent {
            *g.picked.entry(intent.clone()).or_default() += 1;
        }
    }
    let mut out: Vec<Group> = groups.into_iter().map(|(_, g)| g).collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out
}

async fn read(state: &AppState, agent: &Agent, period: &Period) -> Result<Vec<Stored>, AppError> {
    crate::owner::owner(state, agent).await?;
    let from = period.first_day(now_ms())?;
    Ok(state.inner.store.shared_questions(&from).await?)
}

/// `GET /api/owner/unanswered?days=30`: `{total, groups: [{count, examples, locales, picked}]}`,
/// the shared questions grouped ([`group`]); owners only.
pub(crate) async fn unanswered(State(state): State<AppState>, agent: Agent, Query(period): Query<Period>) -> Result<Json<serde_json::Value>, AppError> {
    let questions = read(&state, &agent, &period).await?;
    Ok(Json(serde_json::json!({ "total": questions.len(), "groups": group(&questions) })))
}

/// `GET /api/owner/unanswered.jsonl?days=30`: one `{"text", "locale"}` per shared question,
/// newest first: the input of `sottovoce suggest` (owners only).
pub(crate) async fn unanswered_jsonl(State(state): State<AppState>, agent: Agent, Query(period): Query<Period>) -> Result<Response, AppError> {
    let questions = read(&state, &agent, &period).await?;
    let mut out = String::new();
    for q in &questions {
        out.push_str(&serde_json::json!({ "text": q.text, "locale": q.locale }).to_string());
        out.push('\n');
    }
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"unanswered.jsonl\"")],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str, locale: &str, intent: Option<&str>) -> Stored {
        Stored { day: "2026-12-04".into(), locale: locale.into(), intent: intent.map(str::to_owned), text: text.into() }
    }

    #[test]
    fn alike_questions_share_a_group_largest_first() {
        let groups = group(&[
            q("do you sell gift cards", "en", None),
            q("can my parcel be left with a neighbour", "en", Some("delivery_problem")),
            q("do you sell gift cards?", "en", None),
            q("venden tarjetas regalo", "es", None),
            q("can my parcel be left with the neighbour", "en", Some("delivery_problem")),
            q("do you sell a gift card", "en", None),
        ]);
        let heads: Vec<(&str, usize)> = groups.iter().map(|g| (g.examples[0].as_str(), g.count)).collect();
        assert_eq!(heads, [("do you sell gift cards", 3), ("can my parcel be left with a neighbour", 2), ("venden tarjetas regalo", 1)]);
        assert_eq!(groups[0].examples, ["do you sell gift cards", "do you sell gift cards?", "do you sell a gift card"]);
        assert_eq!(groups[1].picked.get("delivery_problem"), Some(&2));
    }
}
