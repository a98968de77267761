//! Proactive teasers: the bot speaks first, quietly, beside the launcher, when the page's
//! events meet one of the definition's `triggers` (cart abandonment, a long look at a page…).
//!
//! Pure, like the rest of the core: the widget observes the page (URL, time on it, scroll
//! depth, idle time, exit intent, a return to the tab, the site's `track()` events) and passes
//! what it saw and the time in ([`PageEvent`], [`PageContext`]); this module decides, keeps the
//! visit's events, the cart and each trigger's showings in the [`ConversationState`] (so caps per
//! visit, day and ever survive page loads), and renders the teaser in the conversation's locale.
//!
//! Quiet by rule: nothing is shown while the visitor types or has the chat open, after they
//! dismissed a teaser this visit, or ever after they chose "no tips" (a fact under What I
//! remember, [`NO_TIPS_FACT`]: forgetting it brings tips back). The first trigger in definition
//! order whose conditions all hold and whose caps allow it wins; a showing counts against its
//! caps when it is returned.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::definition::{TriggerDef, TriggerWhen, DEFAULT_CAP_PER_VISIT};
use crate::dialogue::{Bot, BotMessage};
use crate::state::{ConversationState, Fact, FactSource, Shown, NO_TIPS_FACT, NO_TIPS_VALUE};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// What just happened on the page, as the widget saw it.
///
/// JSON: `{"type": "tick"}`, `{"type": "exit_intent"}`, `{"type": "tab_return"}`,
/// `{"type": "track", "event": "add_to_cart"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageEvent {
    /// Time passed (the widget ticks every few seconds, and once when a page loads).
    Tick,
    /// The pointer left the page through its top edge (desktop): the visitor may be leaving.
    ExitIntent,
    /// The visitor came back to the page's tab.
    TabReturn,
    /// The site reported an event with `track()`: `add_to_cart` adds an item to the cart,
    /// `purchase` empties it, every event counts for the visit's `when.event`.
    Track {
        /// The event's name (`add_to_cart`, `checkout_started`, `purchase`, `product_view`).
        event: String,
    },
}

/// The page as the widget sees it when it reports a [`PageEvent`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageContext {
    /// The page's path and query (`/checkout.html?step=2`), matched by `when.page`.
    #[serde(default)]
    pub url: String,
    /// Milliseconds since the page loaded.
    #[serde(default)]
    pub time_on_page_ms: u64,
    /// How far down the page the visitor has scrolled, in percent (0–100; 100 for a page
    /// without a scroll bar).
    #[serde(default)]
    pub scroll_pct: u8,
    /// Milliseconds since the visitor last moved the pointer, scrolled, clicked or typed.
    #[serde(default)]
    pub idle_ms: u64,
    /// True while the visitor types in the chat (or anywhere on the page).
    #[serde(default)]
    pub typing: bool,
    /// True while the chat panel is open.
    #[serde(default)]
    pub chat_open: bool,
    /// The time, ms since the Unix epoch.
    pub now_ms: u64,
    /// The visitor's offset from UTC in minutes, east positive: their day for `cap.day`.
    #[serde(default)]
    pub utc_offset_min: i32,
}

/// A teaser to show beside the launcher: the trigger that fired and its message, rendered in
/// the conversation's locale (with the trigger's quick replies, for when it is opened).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Teaser {
    /// The trigger's id.
    pub trigger: String,
    /// The message, as the bot's first message once the visitor opens it
    /// ([`Bot::open_teaser`]).
    pub message: BotMessage,
}

/// Matches `url` against a trigger's `page` pattern: a glob in which `*` stands for any run of
/// characters (`/checkout*`, `*/products/*`), anchored at both ends; a pattern without `*` is
/// a prefix. Case-sensitive, as paths are. Linear in the text for each `*` (the classic
/// backtracking wildcard match, which backtracks to the latest star only).
pub fn page_matches(pattern: &str, url: &str) -> bool {
    if !pattern.contains('*') {
        return url.starts_with(pattern);
    }
    let (p, t) = (pattern.as_bytes(), url.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == t[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

/// The visitor's calendar day (days since 1970-01-01) at `now_ms` for `utc_offset_min`.
fn visitor_day(now_ms: u64, utc_offset_min: i32) -> u64 {
    let local = now_ms as i64 + i64::from(utc_offset_min) * 60_000;
    (local.max(0) as u64) / DAY_MS
}

/// True when the visitor chose "no tips" (and has not forgotten it).
pub(crate) fn no_tips(state: &ConversationState) -> bool {
    state.profile.facts.iter().any(|f| f.entity == NO_TIPS_FACT)
}

/// Records the page event in the state: a new visit after the dialogue's
/// `new_visit_after_min` without events (the visit's events, the dismissal reset), the
/// `track()` event and the cart.
fn observe(bot: &Bot, state: &mut ConversationState, event: &PageEvent, page: &PageContext) {
    let away_ms = u64::from(bot.domain.settings.new_visit_after_min) * 60 * 1000;
    let p = &mut state.proactive;
    if p.last_ms == 0 || page.now_ms.saturating_sub(p.last_ms) > away_ms {
        p.visit_start_ms = page.now_ms;
        p.events.clear();
        p.dismissed = false;
    }
    p.last_ms = p.last_ms.max(page.now_ms);
    if let PageEvent::Track { event } = event {
        match event.as_str() {
            "add_to_cart" => p.cart = p.cart.saturating_add(1),
            "purchase" => p.cart = 0,
            _ => {}
        }
        if !p.events.contains(event) {
            p.events.push(event.clone());
        }
    }
}

/// The visitor's visits, this one included: the profile's count, plus one when the dialogue
/// has not counted this visit yet (nothing said since the last one ended).
fn visits_now(bot: &Bot, state: &ConversationState, now_ms: u64) -> u32 {
    let away_ms = u64::from(bot.domain.settings.new_visit_after_min) * 60 * 1000;
    let uncounted = state.profile.visits == 0 || now_ms.saturating_sub(state.profile.last_seen_ms) > away_ms;
    state.profile.visits.saturating_add(u32::from(uncounted))
}

/// True when every condition of `when` that is set holds.
fn conditions_hold(bot: &Bot, state: &ConversationState, when: &TriggerWhen, event: &PageEvent, page: &PageContext) -> bool {
    let p = &state.proactive;
    let secs = |s: Option<u32>| s.map(|s| u64::from(s) * 1000);
    when.page.as_deref().is_none_or(|pattern| page_matches(pattern, &page.url))
        && secs(when.time_on_page_s).is_none_or(|ms| page.time_on_page_ms >= ms)
        && when.scroll_pct.is_none_or(|pct| page.scroll_pct >= pct)
        && secs(when.idle_s).is_none_or(|ms| page.idle_ms >= ms)
        && (!when.exit_intent || *event == PageEvent::ExitIntent)
        && (!when.tab_return || *event == PageEvent::TabReturn)
        && when.event.as_ref().is_none_or(|e| p.events.contains(e))
        && when.cart.is_none_or(|full| (p.cart > 0) == full)
        && when.min_visits.is_none_or(|n| visits_now(bot, state, page.now_ms) >= n)
        && when.fact.as_deref().is_none_or(|entity| {
            state.profile.facts.iter().any(|f| f.entity == entity && f.expires_ms > page.now_ms)
        })
}

/// True when `trigger` may be shown once more in the visit that started at `visit_start_ms`,
/// on `day`.
fn under_caps(trigger: &TriggerDef, shown: Option<&Shown>, visit_start_ms: u64, day: u64) -> bool {
    let Some(s) = shown else { return true };
    let in_visit = if s.visit_start_ms == visit_start_ms { s.in_visit } else { 0 };
    let in_day = if s.day == day { s.in_day } else { 0 };
    let cap = &trigger.cap;
    in_visit < cap.visit.unwrap_or(DEFAULT_CAP_PER_VISIT)
        && cap.day.is_none_or(|n| in_day < n)
        && cap.ever.is_none_or(|n| s.ever < n)
}

/// Counts one showing of `trigger` against its caps.
fn count_showing(state: &mut ConversationState, trigger: &str, day: u64) {
    let visit_start_ms = state.proactive.visit_start_ms;
    let shown = &mut state.proactive.shown;
    let at = match shown.iter().position(|s| s.trigger == trigger) {
        Some(at) => at,
        None => {
            shown.push(Shown { trigger: trigger.to_owned(), visit_start_ms, in_visit: 0, day, in_day: 0, ever: 0 });
            shown.len() - 1
        }
    };
    let s = &mut shown[at];
    if s.visit_start_ms != visit_start_ms {
        (s.visit_start_ms, s.in_visit) = (visit_start_ms, 0);
    }
    if s.day != day {
        (s.day, s.in_day) = (day, 0);
    }
    s.in_visit += 1;
    s.in_day += 1;
    s.ever += 1;
}

/// The teaser of `trigger`, rendered for `state`'s locale: `$promo` is its code or `none`.
fn render(bot: &Bot, state: &ConversationState, trigger: &TriggerDef) -> Teaser {
    let mut extra = BTreeMap::new();
    extra.insert("promo".to_owned(), trigger.promo.clone().unwrap_or_else(|| "none".to_owned()));
    let mut message = bot.message(state, &trigger.message, &extra);
    message.quick_replies = bot.quick_replies(state, &trigger.quick_replies);
    Teaser { trigger: trigger.id.clone(), message }
}

/// Records `event` and returns the teaser to show, if a trigger fires: see [`Bot::proactive`].
pub(crate) fn evaluate(bot: &Bot, state: &mut ConversationState, event: &PageEvent, page: &PageContext) -> Option<Teaser> {
    observe(bot, state, event, page);
    if page.typing || page.chat_open || state.proactive.dismissed || no_tips(state) {
        return None;
    }
    let day = visitor_day(page.now_ms, page.utc_offset_min);
    let visit_start_ms = state.proactive.visit_start_ms;
    let trigger = bot.domain.definition.triggers.iter().find(|t| {
        let shown = state.proactive.shown.iter().find(|s| s.trigger == t.id);
        under_caps(t, shown, visit_start_ms, day) && conditions_hold(bot, state, &t.when, event, page)
    })?;
    count_showing(state, &trigger.id, day);
    Some(render(bot, state, trigger))
}

/// The teaser of the trigger `id` whatever its conditions and caps, counting nothing (the
/// owner's preview); `None` for an unknown id.
pub(crate) fn preview(bot: &Bot, state: &ConversationState, id: &str) -> Option<Teaser> {
    let trigger = bot.domain.definition.triggers.iter().find(|t| t.id == id)?;
    Some(render(bot, state, trigger))
}

/// The visitor opened the teaser of `id`: its message joins the transcript at `now_ms` as the
/// bot's, and is returned to show first in the chat; `None` for an unknown id.
pub(crate) fn open(bot: &Bot, state: &mut ConversationState, id: &str, now_ms: u64) -> Option<BotMessage> {
    let teaser = preview(bot, state, id)?;
    crate::dialogue::record(state, std::slice::from_ref(&teaser.message), now_ms);
    Some(teaser.message)
}

/// "Never" as an expiry: JavaScript's largest exact integer (2^53 - 1 ms, the year 287,396),
/// since the browser stores the state as JSON numbers and refuses a larger one (`u64::MAX`
/// made the whole state unsavable).
pub const NEVER_MS: u64 = (1 << 53) - 1;

/// The visitor chose "no tips" at `now_ms`: kept as the fact [`NO_TIPS_FACT`] (said in chat,
/// expiring at [`NEVER_MS`]) until they forget it.
pub(crate) fn stop_tips(state: &mut ConversationState, now_ms: u64) {
    state.profile.remember(Fact {
        entity: NO_TIPS_FACT.to_owned(),
        value: NO_TIPS_VALUE.to_owned(),
        source: FactSource::Chat,
        at_ms: now_ms,
        expires_ms: NEVER_MS,
    });
}

#[cfg(test)]
mod tests {
    use super::{page_matches, visitor_day};

    #[test]
    fn page_patterns_are_anchored_globs_or_prefixes() {
        let cases = [
            ("/checkout", "/checkout.html", true),
            ("/checkout", "/shop/checkout", false),
            ("/checkout*", "/checkout.html?step=2", true),
            ("*/guides/*", "/en/guides/tents", true),
            ("*/guides/*", "/en/guides", false),
            ("*.html", "/about.html", true),
            ("*.html", "/about.html?x=1", false),
            ("/a*b*c", "/aXbYbZc", true),
            ("/a*b*c", "/aXbYbZ", false),
            ("*", "", true),
            ("/x", "", false),
        ];
        for (pattern, url, expected) in cases {
            assert_eq!(page_matches(pattern, url), expected, "{pattern} on {url}");
        }
    }

    #[test]
    fn the_day_is_the_visitors() {
        let day = 24 * 60 * 60 * 1000;
        let late = 20 * day + 23 * 60 * 60 * 1000; // 23:00 UTC on day 20
        assert_eq!(visitor_day(late, 0), 20);
        assert_eq!(visitor_day(late, 120), 21, "01:00 the next day in Madrid in summer");
        assert_eq!(visitor_day(late, -300), 20);
        assert_eq!(visitor_day(0, -300), 0, "before the epoch counts as day 0");
    }
}
