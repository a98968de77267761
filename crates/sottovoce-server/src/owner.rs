//! The owner's numbers: the widget's anonymous KPI reports in, the dashboard's figures and a
//! CSV out.
//!
//! A widget whose owner turned reporting on (`data-kpis="on"`) sends each conversation's
//! [`KpiReport`] to `POST /api/kpis`: counts, intent names and ratings, never a visitor's words
//! (the core's `kpi` module measures them on the device). The server keeps one row per
//! conversation, keyed by a hash of the report's random id, so a later report replaces the earlier
//! one; it dates the row by its own clock, never the browser's. Owners (agents with the `owner`
//! role, `sottovoce agent add --owner`) read the sums per day and per locale at
//! `GET /api/owner/kpis` and `GET /api/owner/kpis.csv`; the inbox draws them (`inbox/dashboard.js`).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sottovoce::protocol::KpiReport;
use sottovoce::Tally;
use sqlx::Row;

use crate::agents::Agent;
use crate::api::sha256_hex;
use crate::error::{ApiJson, AppError};
use crate::store::{now_ms, Store};
use crate::AppState;

/// The role that may read the owner's numbers.
pub const OWNER: &str = "owner";
/// The longest period the dashboard reads, in days.
pub const MAX_DAYS: i64 = 366;
const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD` (UTC) of `ms` since the Unix epoch (Howard Hinnant's `civil_from_days`).
pub fn utc_day(ms: i64) -> String {
    let z = ms.div_euclid(DAY_MS) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Store {
    /// Stores or replaces the report whose id hashes to `id_hash`; a new row is dated `day`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn put_kpi_report(&self, id_hash: &str, day: &str, locale: &str, kpis_json: &str, now_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO kpi_reports (id_hash, day, locale, kpis_json, received_ms) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id_hash) DO UPDATE SET locale = excluded.locale, kpis_json = excluded.kpis_json, received_ms = excluded.received_ms",
        )
        .bind(id_hash)
        .bind(day)
        .bind(locale)
        .bind(kpis_json)
        .bind(now_ms)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The reports dated `from` to `to` (inclusive `YYYY-MM-DD`), as (day, locale, JSON).
    ///
    /// # Errors
    /// Database failures.
    pub async fn kpi_reports(&self, from: &str, to: &str) -> Result<Vec<(String, String, String)>, sqlx::Error> {
        let rows = sqlx::query("SELECT day, locale, kpis_json FROM kpi_reports WHERE day >= $1 AND day <= $2 ORDER BY day")
            .bind(from)
            .bind(to)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|r| Ok((r.try_get("day")?, r.try_get("locale")?, r.try_get("kpis_json")?))).collect()
    }

    /// The role of agent `agent_id` (`agent` or `owner`), `None` for no such agent.
    ///
    /// # Errors
    /// Database failures.
    pub async fn agent_role(&self, agent_id: i64) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT role FROM agents WHERE id = $1").bind(agent_id).fetch_optional(self.reader()).await?;
        row.map(|r| r.try_get("role")).transpose()
    }

    /// Sets the role of the agent with `email`; `false` when there is none.
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_agent_role(&self, email: &str, role: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE agents SET role = $1 WHERE email = $2").bind(role).bind(email).execute(self.writer()).await?;
        Ok(done.rows_affected() == 1)
    }
}

/// `POST /api/kpis`: stores one conversation's [`KpiReport`] (replacing an earlier report with
/// the same id); 204. 422 naming the field for a report that breaks [`KpiReport::validate`].
pub(crate) async fn report(State(state): State<AppState>, ApiJson(body): ApiJson<KpiReport>) -> Result<StatusCode, AppError> {
    body.validate()?;
    let now = now_ms();
    let json = serde_json::to_string(&body.kpis).map_err(|e| AppError::Internal(e.to_string()))?;
    state.inner.store.put_kpi_report(&sha256_hex(body.id.as_bytes()), &utc_day(now), &body.kpis.locale, &json, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in agent, when their role is [`OWNER`]; 403 otherwise.
pub(crate) async fn owner(state: &AppState, agent: &Agent) -> Result<(), AppError> {
    match state.inner.store.agent_role(agent.id).await?.as_deref() {
        Some(OWNER) => Ok(()),
        _ => Err(AppError::Forbidden("only an owner sees the numbers (sottovoce agent add --owner)")),
    }
}

/// Query of the dashboard: the last `days` days (default 30, 1 to [`MAX_DAYS`]), today included.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Period {
    #[serde(default)]
    days: Option<i64>,
}

impl Period {
    /// The number of days asked for (default 30).
    ///
    /// # Errors
    /// 422 on `days` outside 1 to [`MAX_DAYS`].
    pub(crate) fn days(&self) -> Result<i64, AppError> {
        let days = self.days.unwrap_or(30);
        if (1..=MAX_DAYS).contains(&days) {
            Ok(days)
        } else {
            Err(AppError::invalid("days", format!("must be 1 to {MAX_DAYS}")))
        }
    }

    /// The first day of the period ending today, `YYYY-MM-DD` (UTC), at `now_ms`.
    ///
    /// # Errors
    /// As [`Period::days`].
    pub(crate) fn first_day(&self, now_ms: i64) -> Result<String, AppError> {
        Ok(utc_day(now_ms - (self.days()? - 1) * DAY_MS))
    }
}

/// One day's sums, per locale and in all.
#[derive(Debug, Default, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    /// All locales.
    pub total: Tally,
    /// Per locale.
    pub locales: BTreeMap<String, Tally>,
}

/// What the dashboard shows for a period.
#[derive(Debug, Default, Serialize)]
pub struct Figures {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (today, UTC).
    pub to: String,
    /// Every day of the period, oldest first, empty days included.
    pub days: Vec<Day>,
    /// The whole period, all locales.
    pub total: Tally,
    /// The whole period per locale.
    pub locales: BTreeMap<String, Tally>,
}

async fn figures(state: &AppState, period: &Period) -> Result<Figures, AppError> {
    let days = period.days()?;
    let now = now_ms();
    let mut figures = Figures { from: period.first_day(now)?, to: utc_day(now), ..Figures::default() };
    figures.days = (0..days).rev().map(|back| Day { day: utc_day(now - back * DAY_MS), ..Day::default() }).collect();
    for (day, locale, json) in state.inner.store.kpi_reports(&figures.from, &figures.to).await? {
        // A row that no longer parses (written by a newer server) is skipped, not fatal.
        let Ok(kpis) = serde_json::from_str::<sottovoce::ConversationKpis>(&json) else { continue };
        if let Some(d) = figures.days.iter_mut().find(|d| d.day == day) {
            d.total.add(&kpis);
            d.locales.entry(locale.clone()).or_default().add(&kpis);
        }
        figures.total.add(&kpis);
        figures.locales.entry(locale).or_default().add(&kpis);
    }
    Ok(figures)
}

/// `GET /api/owner/kpis?days=30`: [`Figures`] (owners only: 401 without a session, 403 for an
/// agent who is not an owner).
pub(crate) async fn dashboard(State(state): State<AppState>, agent: Agent, Query(period): Query<Period>) -> Result<Json<Figures>, AppError> {
    owner(&state, &agent).await?;
    Ok(Json(figures(&state, &period).await?))
}

/// The CSV's columns.
pub const CSV_HEADER: &str = "day,locale,conversations,contained,escalated,abandoned,messages,fallbacks,picks,\
csat_1,csat_2,csat_3,csat_4,csat_5,answered,first_answer_ms_mean";

/// One CSV row per day and locale with any conversation, then nothing else: every field is a
/// number, a date or a locale tag of letters, digits and hyphens (checked on the way in), so no
/// quoting is needed and no cell can start a spreadsheet formula.
pub fn csv(figures: &Figures) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for d in &figures.days {
        for (locale, t) in &d.locales {
            let mean = if t.answered == 0 { String::new() } else { (t.first_answer_ms / u64::from(t.answered)).to_string() };
            let [c1, c2, c3, c4, c5] = t.csat;
            out.push_str(&format!(
                "{},{locale},{},{},{},{},{},{},{},{c1},{c2},{c3},{c4},{c5},{},{mean}\n",
                d.day, t.conversations, t.contained, t.escalated, t.abandoned, t.messages, t.fallbacks, t.picks, t.answered
            ));
        }
    }
    out
}

/// `GET /api/owner/kpis.csv?days=30`: [`csv`] as a download (owners only).
pub(crate) async fn dashboard_csv(State(state): State<AppState>, agent: Agent, Query(period): Query<Period>) -> Result<Response, AppError> {
    owner(&state, &agent).await?;
    let figures = figures(&state, &period).await?;
    let name = format!("attachment; filename=\"sottovoce-kpis-{}-{}.csv\"", figures.from, figures.to);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, name)], csv(&figures)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days_match_the_calendar() {
        for (ms, day) in [(0, "1970-01-01"), (951_782_400_000, "2000-02-29"), (1_798_761_599_999, "2026-12-31"), (-1, "1969-12-31")] {
            assert_eq!(utc_day(ms), day, "{ms}");
        }
    }
}
