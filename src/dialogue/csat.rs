//! The satisfaction question (the definition's `csat`): asked once a visit when the visitor
//! ends a conversation that answered something, or when an agent resolves their escalation;
//! buttons 1 to 5, then an optional comment, each kept in the state on the device.
//!
//! The question never traps the visitor: anything but a rating (a question, a greeting) drops
//! it and is answered as usual; while the comment is asked, typed text is the comment and the
//! skip button (or any button with an intent) leaves it out.

use std::collections::BTreeMap;

use crate::definition::{CsatDef, QuickReplyDef};
use crate::dialogue::{Bot, BotMessage, QuickReply};
use crate::state::{ConversationState, CsatAfter, CsatPending, CsatRating, Speaker, MAX_CSAT_RATINGS};

/// Comment characters kept; the rest is cut.
pub(crate) const MAX_COMMENT_CHARS: usize = 500;

/// The rating typed or pressed: one digit from 1 to 5 (ASCII or Arabic-Indic), alone.
fn rating(text: &str) -> Option<u8> {
    let mut chars = text.trim().chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    let digit = match c {
        '1'..='5' => c as u32 - '0' as u32,
        '\u{0661}'..='\u{0665}' => c as u32 - 0x0660,
        '\u{06F1}'..='\u{06F5}' => c as u32 - 0x06F0,
        _ => return None,
    };
    u8::try_from(digit).ok()
}

impl Bot {
    /// The question with its five buttons, in `state`'s locale.
    fn csat_question(&self, state: &ConversationState, csat: &CsatDef) -> BotMessage {
        let mut message = self.message(state, &csat.message, &BTreeMap::new());
        message.quick_replies =
            (1..=5).map(|n| QuickReply { label: n.to_string(), intent: None, locale: None }).collect();
        message
    }

    /// Answers the visitor's input when it answers an open satisfaction question: a rating
    /// (kept, then the comment is asked with a skip button), or the comment (kept) or the
    /// skip button, then thanks. `None` when there is no open question or the input is
    /// something else (the question is then dropped and the input answered as usual).
    pub(crate) fn csat_answer(
        &self,
        state: &mut ConversationState,
        text: &str,
        pressed: bool,
        now_ms: u64,
    ) -> Option<Vec<BotMessage>> {
        let csat = self.domain.definition.csat.as_ref()?;
        let pending = state.csat.pending.take()?;
        match pending {
            CsatPending::Rating(after) => {
                let rating = rating(text).filter(|_| !pressed)?;
                state.csat.ratings.push(CsatRating {
                    rating,
                    comment: None,
                    after,
                    locale: state.profile.locale.clone(),
                    at_ms: now_ms,
                });
                if state.csat.ratings.len() > MAX_CSAT_RATINGS {
                    state.csat.ratings.remove(0);
                }
                state.csat.pending = Some(CsatPending::Comment);
                let mut extra = BTreeMap::new();
                extra.insert("rating".to_owned(), rating.to_string());
                let mut message = self.message(state, &csat.comment, &extra);
                let skip = QuickReplyDef { label: csat.skip.clone(), intent: None };
                message.quick_replies = self.quick_replies(state, &[skip]);
                Some(vec![message])
            }
            CsatPending::Comment => {
                if pressed {
                    return None;
                }
                let skip = self.message(state, &csat.skip, &BTreeMap::new()).text;
                let comment = text.trim();
                if comment != skip.trim() {
                    if let Some(last) = state.csat.ratings.last_mut() {
                        last.comment = Some(comment.chars().take(MAX_COMMENT_CHARS).collect());
                    }
                }
                Some(vec![self.message(state, &csat.thanks, &BTreeMap::new())])
            }
        }
    }

    /// The question to add after a turn that acted on `intent`, if it ends a conversation:
    /// the intent is one of `csat.after`, no form is open, the question was not asked in this
    /// visit, and this visit answered at least one question (a visitor message acted on by an
    /// intent with a `title`). Marks it asked and open.
    pub(crate) fn csat_after_turn(&self, state: &mut ConversationState, intent: Option<&str>) -> Option<BotMessage> {
        let csat = self.domain.definition.csat.as_ref()?;
        let ends = intent.is_some_and(|i| csat.after.iter().any(|a| a == i));
        if !ends || state.form.is_some() || state.csat.asked_visit == state.profile.visits {
            return None;
        }
        let away_ms = u64::from(self.domain.settings.new_visit_after_min) * 60 * 1000;
        let mut answered = false;
        let mut next_ms = state.profile.last_seen_ms;
        for entry in state.transcript.iter().rev() {
            if next_ms.saturating_sub(entry.time_ms) > away_ms {
                break; // the previous visit
            }
            next_ms = entry.time_ms;
            let titled = entry.intent.as_deref().and_then(|i| self.domain.intent(i)).is_some_and(|i| i.title.is_some());
            if entry.from == Speaker::Visitor && titled {
                answered = true;
                break;
            }
        }
        if !answered {
            return None;
        }
        Some(self.csat_open(state, csat, CsatAfter::Chat))
    }

    /// Opens the question after `after` in this visit and returns it.
    fn csat_open(&self, state: &mut ConversationState, csat: &CsatDef, after: CsatAfter) -> BotMessage {
        state.csat.asked_visit = state.profile.visits;
        state.csat.pending = Some(CsatPending::Rating(after));
        self.csat_question(state, csat)
    }

    /// An agent resolved the visitor's escalation at `now_ms`: the question (recorded in the
    /// transcript), unless the bot has no `csat` or a question is already open.
    pub(crate) fn csat_after_agent(&self, state: &mut ConversationState, now_ms: u64) -> Option<BotMessage> {
        let csat = self.domain.definition.csat.as_ref()?;
        if state.csat.pending.is_some() {
            return None;
        }
        let message = self.csat_open(state, csat, CsatAfter::Agent);
        crate::dialogue::apply::record(state, std::slice::from_ref(&message), now_ms);
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::rating;

    #[test]
    fn a_rating_is_one_digit_from_1_to_5() {
        for (text, expected) in [("1", Some(1)), (" 5 ", Some(5)), ("٤", Some(4)), ("۳", Some(3)), ("0", None), ("6", None), ("45", None), ("five", None), ("", None)] {
            assert_eq!(rating(text), expected, "{text:?}");
        }
    }
}
