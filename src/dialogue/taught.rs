//! Learning from one visitor, on their device: what they taught the bot ("did you mean"
//! suggestions they picked, thumbs up or down on answers) leans the ranking of their later,
//! similar messages, within a bound, and can be seen and forgotten ([`crate::state::Taught`]).
//!
//! The rule: a later message whose normalised words overlap a taught message's by a Jaccard
//! similarity `s` of at least [`MIN_SIMILARITY`] moves that intent's probability by
//! `±MAX_SHIFT × s` (up for a pick or a thumbs up, down for a thumbs down); the shifts for one
//! intent add up and are clamped to `±MAX_SHIFT`, and a probability stays in [0, 1]. The intent,
//! confidence and ranking are then read again from the shifted probabilities with the bot's own
//! threshold, so one pick can lift a near miss over it but never makes an unrelated message
//! match. Nothing leaves the device.

use crate::state::{ConversationState, Speaker, Taught, MAX_TAUGHT};
use crate::text::{jaccard, word_set as words};

use super::understand::Understanding;
use super::Bot;

/// Least word overlap (Jaccard, 0 to 1) for a taught message to count.
pub const MIN_SIMILARITY: f32 = 0.5;
/// Most one intent's probability can move, in probability units. Half the range: with the
/// default threshold of 0.5 the very message the visitor taught (similarity 1) always gets its
/// intent back, a close variant (similarity `s`) does when the classifier already gave the
/// intent at least `0.5 × (1 − s)`, and a message sharing half its words needs 0.25 of its own.
pub const MAX_SHIFT: f32 = 0.5;

fn normalised(text: &str) -> String {
    let mut normal = String::new();
    crate::text::normalize_into(text, &mut normal);
    normal
}

/// Adds (or replaces) what the visitor taught about `text`: at most one entry per message
/// text and intent, the newest last, [`MAX_TAUGHT`] in all.
fn remember(state: &mut ConversationState, text: &str, intent: &str, up: bool, source: &str, now_ms: u64) -> bool {
    let text = normalised(text);
    if text.is_empty() {
        return false;
    }
    let taught = &mut state.profile.taught;
    taught.retain(|t| !(t.text == text && t.intent == intent));
    taught.push(Taught { text, intent: intent.to_owned(), up, source: source.to_owned(), at_ms: now_ms });
    let extra = taught.len().saturating_sub(MAX_TAUGHT);
    taught.drain(..extra);
    true
}

/// When the visitor pressed `intent`'s button among the suggestions that answered a fallback
/// (the previous visitor message), remembers that message as meaning `intent`.
pub(crate) fn record_pick(state: &mut ConversationState, label: &str, intent: &str, now_ms: u64) {
    let t = &state.transcript;
    let Some(visitor) = t.iter().rposition(|e| e.from == Speaker::Visitor) else { return };
    let offered = t[visitor + 1..].iter().flat_map(|b| &b.quick_replies).any(|q| q.label == label && q.intent.as_deref() == Some(intent));
    if t[visitor].fallback && offered {
        let text = t[visitor].text.clone();
        remember(state, &text, intent, true, "pick", now_ms);
    }
}

/// A thumbs up (`up`) or down on the bot's latest answer: remembers the visitor message it
/// answered as meaning (or not meaning) the intent acted on. False when there is nothing to
/// rate: no visitor message yet, or one no intent was acted on for (a fallback).
pub(crate) fn record_thumbs(state: &mut ConversationState, up: bool, now_ms: u64) -> bool {
    let Some(entry) = state.transcript.iter().rfind(|e| e.from == Speaker::Visitor) else { return false };
    let (Some(intent), false) = (entry.intent.clone(), entry.fallback) else { return false };
    let text = entry.text.clone();
    remember(state, &text, &intent, up, "thumbs", now_ms)
}

/// Leans `u` toward what the visitor taught (see the module documentation). `text` is the
/// message as typed.
pub(crate) fn personalise(bot: &Bot, state: &ConversationState, text: &str, u: &mut Understanding) {
    if state.profile.taught.is_empty() {
        return;
    }
    let def = &bot.domain.definition;
    let said = words(text);
    let mut shift = vec![0.0f32; u.intent_probs.len()];
    for t in &state.profile.taught {
        let Some(i) = def.intents.iter().position(|d| d.name == t.intent) else { continue };
        let s = jaccard(&said, &words(&t.text));
        if s >= MIN_SIMILARITY && i < shift.len() {
            shift[i] += if t.up { MAX_SHIFT * s } else { -MAX_SHIFT * s };
        }
    }
    if shift.iter().all(|d| *d == 0.0) {
        return;
    }
    for (p, d) in u.intent_probs.iter_mut().zip(&shift) {
        *p = (*p + d.clamp(-MAX_SHIFT, MAX_SHIFT)).clamp(0.0, 1.0);
    }
    let order = super::understand::best_first(&u.intent_probs, u.result.ranking.len().max(1));
    u.result.ranking = order.iter().map(|&i| (def.intents[i].name.clone(), u.intent_probs[i])).collect();
    let (best, confidence) = order.first().map(|&i| (i, u.intent_probs[i])).unwrap_or((0, 0.0));
    u.result.confidence = confidence;
    // The entity-alone rule of `understand` still holds: such a message gets no intent.
    let entity_alone = u.language_words == 0 && !u.result.entities.is_empty();
    u.result.intent = (bot.domain.settings.accepts(confidence, u.coverage) && !entity_alone && def.intents[best].name != crate::definition::OUT_OF_SCOPE_INTENT)
        .then(|| def.intents[best].name.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_over_normalised_words() {
        let a = words("Where's my PARCEL?");
        assert_eq!(a, ["wheres", "my", "parcel"]);
        assert!((jaccard(&a, &words("wheres my parcel now")) - 0.75).abs() < 1e-6);
        assert_eq!(jaccard(&a, &words("")), 0.0);
        assert_eq!(normalised("  Ça  va?? "), "ca va");
        assert_eq!(normalised("Can my package be left?"), "can my package be left");
    }

    #[test]
    fn only_an_answered_message_can_be_rated_and_lessons_are_bounded() {
        let bot = Bot::from_json(include_str!("../../tests/fixtures/bots/mini.json")).expect("mini bot trains");
        let mut state = bot.new_state("en", 1, 0);
        assert!(!record_thumbs(&mut state, true, 5), "nothing said yet");
        let turn = bot.respond(&mut state, crate::Input::Text { text: "qwzx vbnm".into() }, crate::TurnContext::new(5, 0));
        assert!(turn.intent.is_none(), "{:?}", turn.intent);
        assert!(!record_thumbs(&mut state, true, 6), "a fallback acted on no intent");
        for i in 0..(MAX_TAUGHT + 5) {
            remember(&mut state, &format!("message number {i}"), "shipping", true, "thumbs", i as u64);
        }
        assert_eq!(state.profile.taught.len(), MAX_TAUGHT);
        assert_eq!(state.profile.taught[0].text, "message number 5", "the oldest went first");
        remember(&mut state, "Message number 5!", "shipping", false, "thumbs", 99);
        assert_eq!(state.profile.taught.len(), MAX_TAUGHT, "one entry per message and intent");
        assert!(!state.profile.taught.last().unwrap().up);
    }
}
