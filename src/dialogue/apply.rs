//! The second step of a turn: the state transition. [`observe`] records what every message
//! changes before anything is decided (the memory's age, the mentions, the count of negative
//! messages); [`apply`] performs a [`Decision`]'s changes (form phase and
//! slots, context, visitor's name, fallback count). Nothing here formats text.

use crate::definition::FormDef;
use crate::dialogue::decide::{Act, Answer, Decision, FormNext, FormStep, Negatives, Values};
use crate::dialogue::understand::Understanding;
use crate::dialogue::{Bot, BotMessage};
use crate::entities::Entity;
use crate::state::{ActiveForm, ConversationState, Fact, FactSource, FormPhase, MemorySource, OpenTopic, Speaker, TranscriptEntry, Topic};

/// Counts a new visit when the visitor was away longer than
/// [`crate::definition::DialogueSettings::new_visit_after_min`] (or never came) and moves the
/// latest activity to `now_ms`. Returns true when a new visit starts.
pub(crate) fn touch(bot: &Bot, state: &mut ConversationState, now_ms: u64) -> bool {
    let away_ms = u64::from(bot.domain.settings.new_visit_after_min) * 60 * 1000;
    let new_visit = state.profile.visits == 0 || now_ms.saturating_sub(state.profile.last_seen_ms) > away_ms;
    if new_visit {
        state.profile.visits = state.profile.visits.saturating_add(1);
    }
    state.profile.last_seen_ms = state.profile.last_seen_ms.max(now_ms);
    state.profile.expire(now_ms);
    new_visit
}

/// Keeps as facts about the visitor the values of this message's entities that the
/// definition's `profile` lists, each for its `days`.
pub(crate) fn learn(bot: &Bot, state: &mut ConversationState, entities: &[Entity], now_ms: u64) {
    let Some(profile) = &bot.domain.definition.profile else { return };
    let days = u64::from(profile.days.unwrap_or(crate::definition::DEFAULT_FACT_DAYS));
    for e in entities.iter().filter(|e| profile.remember.contains(&e.entity)) {
        state.profile.remember(Fact {
            entity: e.entity.clone(),
            value: e.value.clone(),
            source: FactSource::Chat,
            at_ms: now_ms,
            expires_ms: now_ms.saturating_add(days * 24 * 60 * 60 * 1000),
        });
    }
}

/// What every understood message changes before the turn is decided (after its reply locale,
/// `super::locale`): one visitor turn off the topic and the memory (forgetting expired
/// entries), this message's mentions, and the count of strongly negative messages.
pub(crate) fn observe(bot: &Bot, state: &mut ConversationState, understanding: Option<&Understanding>) {
    // The topic and every memory entry last a number of visitor turns, this one included.
    state.topic = state.topic.take().filter(|t| t.turns_left > 0).map(|mut t| {
        t.turns_left -= 1;
        t
    });
    state.memory.age();
    remember_mentions(bot, state, understanding.map(|u| u.result.entities.as_slice()).unwrap_or(&[]));
    if understanding.is_some_and(|u| u.result.sentiment <= crate::sentiment::NEGATIVE) {
        state.negatives = state.negatives.saturating_add(1);
    }
}

/// Remembers this message's values of entities that some reply `uses`, the first of each
/// name (rule-based before learned), for [`crate::definition::DialogueSettings::memory_turns`].
fn remember_mentions(bot: &Bot, state: &mut ConversationState, entities: &[Entity]) {
    let turns = bot.domain.settings.memory_turns;
    let mut seen: Vec<&str> = Vec::new();
    for e in entities {
        if seen.contains(&e.entity.as_str()) {
            continue;
        }
        seen.push(&e.entity);
        let used = bot.domain.definition.intents.iter().filter_map(|i| i.reply.as_ref()).any(|r| r.uses.contains(&e.entity));
        if used {
            state.memory.remember(&e.entity, &e.value, turns, MemorySource::Mentioned);
        }
    }
}

/// Performs `decision` on `state`.
pub(crate) fn apply(bot: &Bot, state: &mut ConversationState, decision: &Decision<'_>) {
    match decision {
        Decision::Form { form, step } => {
            state.fallbacks_in_a_row = 0;
            match step {
                FormStep::Fill { slots, next } => form_next(bot, state, form, slots, next),
                FormStep::Correct { slots } => form_next(bot, state, form, slots, &FormNext::Confirm),
                FormStep::Confirmed { slots } => form_next(bot, state, form, slots, &FormNext::Done),
                FormStep::Cancel | FormStep::GiveUp => state.form = None,
                FormStep::SideQuestion { answer, slots, next } => {
                    self::answer(bot, state, answer);
                    form_next(bot, state, form, slots, next);
                }
                FormStep::Unclear { slots, next, .. } => form_next(bot, state, form, slots, next),
                FormStep::Reprompt { slot, tries, slots } => {
                    form_next(bot, state, form, slots, &FormNext::Ask { slot, tries: *tries })
                }
                FormStep::ConfirmAgain { slots } => form_next(bot, state, form, slots, &FormNext::Confirm),
            }
        }
        Decision::Act { close_form, act } => {
            if *close_form {
                state.form = None;
            }
            match act {
                Act::Answer(a) => answer(bot, state, a),
                Act::Fallback { .. } => state.fallbacks_in_a_row = state.fallbacks_in_a_row.saturating_add(1),
            }
        }
    }
}

/// A recognised intent: the fallback count reset, the visitor's name, the context, the form.
fn answer(bot: &Bot, state: &mut ConversationState, answer: &Answer<'_>) {
    state.fallbacks_in_a_row = 0;
    if let Some(name) = &answer.name {
        state.profile.name = Some(name.clone());
    }
    if let Some(context) = &answer.context {
        state.topic = Some(Topic { intent: answer.intent.name.clone(), turns_left: context.turns });
        state.memory.extend_context(&context.values, context.turns);
    }
    if let Some(start) = &answer.form {
        form_next(bot, state, start.form, &start.slots, &start.next);
    }
}

/// The form in progress with `slots` after `next`: asking a slot, confirming, or closed with
/// its slots as the new context.
pub(crate) fn form_next(bot: &Bot, state: &mut ConversationState, form: &FormDef, slots: &Values, next: &FormNext<'_>) {
    let phase = match next {
        FormNext::Ask { slot, tries } => FormPhase::Asking { slot: slot.name.clone(), tries: *tries },
        FormNext::Confirm => FormPhase::Confirming,
        FormNext::Done => {
            let turns = bot.domain.settings.context_turns;
            state.form = None;
            state.topic = Some(Topic { intent: form.name.clone(), turns_left: turns });
            state.memory.replace_context(slots, turns);
            open_topic(bot, state, form, slots);
            return;
        }
    };
    state.form = Some(ActiveForm { name: form.name.clone(), slots: slots.clone(), phase });
}

/// A closed form that the definition's `greeting.topics` names opens a topic with its slots,
/// kept the `profile`'s days (nothing without a `profile`). Its time is the turn's: [`touch`]
/// moved `last_seen_ms` to it when the turn began.
fn open_topic(bot: &Bot, state: &mut ConversationState, form: &FormDef, slots: &Values) {
    let def = &bot.domain.definition;
    let (Some(profile), true) = (&def.profile, def.greeting.topics.contains_key(&form.name)) else { return };
    let days = u64::from(profile.days.unwrap_or(crate::definition::DEFAULT_FACT_DAYS));
    let now_ms = state.profile.last_seen_ms;
    state.profile.open_topic(OpenTopic {
        kind: form.name.clone(),
        values: slots.clone(),
        source: FactSource::Chat,
        at_ms: now_ms,
        expires_ms: now_ms.saturating_add(days * 24 * 60 * 60 * 1000),
    });
}

/// Performs [`Negatives`].
pub(crate) fn negatives(state: &mut ConversationState, negatives: Negatives) {
    if negatives != Negatives::Keep {
        state.negatives = 0;
    }
}

/// Appends the bot's `messages` to the transcript, at `now_ms`.
pub(crate) fn record(state: &mut ConversationState, messages: &[BotMessage], now_ms: u64) {
    for m in messages {
        state.push(TranscriptEntry {
            from: Speaker::Bot,
            text: m.text.clone(),
            time_ms: now_ms,
            intent: None,
            confidence: None,
            sentiment: None,
            quick_replies: m.quick_replies.clone(),
            links: m.links.clone(),
            fallback: false,
        });
    }
}
