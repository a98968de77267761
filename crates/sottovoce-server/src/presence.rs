//! Agent presence (online, away) and business hours: what the widget needs to say "nobody is
//! online; expect an answer from Monday 09:00" and to offer email instead.
//!
//! Presence is a lease: the inbox page posts `online` or `away` every
//! [`PRESENCE_TTL_MS`]` / 2` while it is open, and a status nobody renewed expires, so an
//! agent whose tab closed or whose laptop slept is never shown online. Business hours are set
//! once in the server configuration ([`BusinessHours::parse`]).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::agents::Agent;
use crate::error::{ApiJson, AppError};
use crate::store::now_ms;
use crate::AppState;

/// How long a presence lasts without renewal, in milliseconds (the inbox renews every 30 s).
pub const PRESENCE_TTL_MS: i64 = 60_000;

/// Why a business-hours setting was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid business hours {0:?}: expected e.g. `mon-fri 09:00-18:00 +01:00`")]
pub struct HoursError(pub String);

/// Weekly opening hours at a fixed UTC offset, e.g. `mon-fri 09:00-18:00 +01:00` (days `mon`…
/// `sun`, a single day or a range; times `HH:MM` with close after open; offset `±HH:MM`,
/// default `+00:00`). Daylight-saving changes are not followed: the owner sets the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    /// Open days, Monday = bit 0 … Sunday = bit 6.
    days: u8,
    /// Opening and closing minute of the local day.
    open_min: i64,
    close_min: i64,
    /// Offset from UTC in minutes, east positive.
    offset_min: i64,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_MS: i64 = 86_400_000;

fn minute_of(hhmm: &str) -> Option<i64> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440).then_some(h * 60 + m)
}

impl BusinessHours {
    /// Parses the format described on [`BusinessHours`].
    ///
    /// # Errors
    /// [`HoursError`] for anything else.
    pub fn parse(text: &str) -> Result<BusinessHours, HoursError> {
        let err = || HoursError(text.to_owned());
        let parts: Vec<&str> = text.split_whitespace().collect();
        let (days, times, offset) = match parts.as_slice() {
            [d, t] => (*d, *t, "+00:00"),
            [d, t, o] => (*d, *t, *o),
            _ => return Err(err()),
        };
        let day = |name: &str| DAY_NAMES.iter().position(|d| name.eq_ignore_ascii_case(d));
        let (first, last) = match days.split_once('-') {
            Some((a, b)) => (day(a).ok_or_else(err)?, day(b).ok_or_else(err)?),
            None => (day(days).ok_or_else(err)?, day(days).ok_or_else(err)?),
        };
        let mut mask = 0u8;
        let mut d = first;
        loop {
            mask |= 1 << d;
            if d == last {
                break;
            }
            d = (d + 1) % 7;
        }
        let (open, close) = times.split_once('-').ok_or_else(err)?;
        let (open_min, close_min) = (minute_of(open).ok_or_else(err)?, minute_of(close).ok_or_else(err)?);
        if close_min <= open_min {
            return Err(err());
        }
        let sign = match offset.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(err()),
        };
        let offset_min = sign * minute_of(&offset[1..]).filter(|m| *m <= 14 * 60).ok_or_else(err)?;
        Ok(BusinessHours { days: mask, open_min, close_min, offset_min })
    }

    /// Whether `now_ms` (UTC) falls inside the hours.
    pub fn is_open(&self, now_ms: i64) -> bool {
        let local = now_ms + self.offset_min * 60_000;
        let day = local.div_euclid(DAY_MS);
        let minute = local.rem_euclid(DAY_MS) / 60_000;
        // 1970-01-01 was a Thursday (index 3 from Monday).
        let weekday = (day + 3).rem_euclid(7);
        self.days & (1 << weekday) != 0 && (self.open_min..self.close_min).contains(&minute)
    }

    /// The next opening time at or after `now_ms` (UTC ms); `now_ms` itself when open now.
    /// `None` only when no day is open (cannot happen for a parsed value).
    pub fn next_open_ms(&self, now_ms: i64) -> Option<i64> {
        if self.is_open(now_ms) {
            return Some(now_ms);
        }
        let offset = self.offset_min * 60_000;
        let today = (now_ms + offset).div_euclid(DAY_MS);
        (0..=7).map(|k| today + k).find_map(|day| {
            let weekday = (day + 3).rem_euclid(7);
            let opens = day * DAY_MS + self.open_min * 60_000 - offset;
            (self.days & (1 << weekday) != 0 && opens >= now_ms).then_some(opens)
        })
    }
}

/// What the widget shows before a handoff: whether someone can answer now and, if not, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// Agents whose presence is `online` and unexpired.
    pub agents_online: i64,
    /// Inside business hours (true when no hours are configured).
    pub open_now: bool,
    /// When an answer can be expected: now if someone is online, else the next opening time
    /// (ms since the Unix epoch), `None` without business hours and nobody online.
    pub expected_reply_ms: Option<i64>,
    /// Whether the server can continue the conversation by email (SMTP configured).
    pub email: bool,
}

/// Computes [`Availability`] from the online count, the hours and the time.
pub fn availability(agents_online: i64, hours: Option<&BusinessHours>, email: bool, now_ms: i64) -> Availability {
    let open_now = hours.is_none_or(|h| h.is_open(now_ms));
    let expected_reply_ms = if agents_online > 0 { Some(now_ms) } else { hours.and_then(|h| h.next_open_ms(now_ms)) };
    Availability { agents_online, open_now, expected_reply_ms, email }
}

/// `GET /api/availability`: [`Availability`] (no authentication; counts only).
pub(crate) async fn get_availability(State(state): State<AppState>) -> Result<Json<Availability>, AppError> {
    let s = &state.inner;
    let now = now_ms();
    let online = s.store.agents_online(now).await?;
    Ok(Json(availability(online, s.config.omni.business_hours.as_ref(), s.config.omni.smtp.is_some(), now)))
}

/// `POST /api/agent/presence` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PresenceBody {
    status: String,
}

/// `POST /api/agent/presence` `{status: "online" | "away"}`: renews the signed-in agent's
/// presence for [`PRESENCE_TTL_MS`]; answers `{status, expires_ms}`.
pub(crate) async fn set_presence(
    State(state): State<AppState>,
    agent: Agent,
    ApiJson(body): ApiJson<PresenceBody>,
) -> Result<Json<Value>, AppError> {
    if body.status != "online" && body.status != "away" {
        return Err(AppError::invalid("status", "must be `online` or `away`"));
    }
    let expires = now_ms() + PRESENCE_TTL_MS;
    state.inner.store.set_presence(agent.id, &body.status, expires).await?;
    Ok(Json(json!({ "status": body.status, "expires_ms": expires })))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-04 (a Friday) 20:00 UTC.
    const FRI_20_UTC: i64 = 1_796_414_400_000;

    #[test]
    fn hours_parse_open_and_next_opening() {
        let h = BusinessHours::parse("mon-fri 09:00-18:00 +01:00").unwrap();
        assert!(!h.is_open(FRI_20_UTC), "21:00 in Madrid on Friday is closed");
        assert!(h.is_open(FRI_20_UTC - 4 * 3_600_000), "17:00 in Madrid is open");
        // Next: Monday 09:00 +01:00 = Monday 08:00 UTC, 2 days 12 hours after Friday 20:00 UTC.
        assert_eq!(h.next_open_ms(FRI_20_UTC), Some(FRI_20_UTC + (2 * 24 + 12) * 3_600_000));
        let sat = BusinessHours::parse("sat 10:00-14:00").unwrap();
        assert_eq!(sat.next_open_ms(FRI_20_UTC), Some(FRI_20_UTC + 14 * 3_600_000));
        let wrap = BusinessHours::parse("fri-mon 09:00-17:00 -05:00").unwrap();
        assert!(wrap.is_open(FRI_20_UTC), "15:00 in New York on Friday");
        for bad in ["", "mon-fri", "mon-fri 18:00-09:00", "xyz 09:00-10:00", "mon 09:00-10:00 01:00", "mon 9-10"] {
            assert!(BusinessHours::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn availability_says_when_to_expect_an_answer() {
        let h = BusinessHours::parse("mon-fri 09:00-18:00 +01:00").unwrap();
        let night = availability(0, Some(&h), true, FRI_20_UTC);
        assert_eq!(night, Availability { agents_online: 0, open_now: false, expected_reply_ms: h.next_open_ms(FRI_20_UTC), email: true });
        assert_eq!(availability(2, Some(&h), false, FRI_20_UTC).expected_reply_ms, Some(FRI_20_UTC));
        assert_eq!(availability(0, None, false, FRI_20_UTC).expected_reply_ms, None);
    }
}
