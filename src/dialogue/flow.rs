//! One turn in three steps, and the greeting at the start of a visit: the message is understood
//! ([`understand()`]), then [`decide()`] picks what to do (pure), [`apply()`] changes the
//! state and [`render()`] says it. Every function here takes the [`Bot`] and the caller's
//! [`ConversationState`] and never fails: whatever the visitor types gets an answer.

use crate::dialogue::apply::{self, apply};
use crate::dialogue::decide::{self, decide, Heard, Negatives};
use crate::dialogue::locale::{self, LocaleStep};
use crate::dialogue::render::{self, render};
use crate::dialogue::shopping;
use crate::dialogue::understand::understand;
use crate::dialogue::{Bot, BotMessage, Input, Turn, TurnContext};
use crate::definition::Action;
use crate::state::{ConversationState, Speaker, TranscriptEntry};

impl Bot {
    pub(crate) fn begin_visit_impl(&self, state: &mut ConversationState, now_ms: u64) -> Vec<BotMessage> {
        let new_visit = apply::touch(self, state, now_ms);
        if !new_visit && !state.transcript.is_empty() {
            return Vec::new();
        }
        let mut messages = vec![self.greeting(state)];
        // A visitor who left in the middle of a form is asked again where they stopped.
        if let Some((form, active)) = state.form.as_ref().and_then(|a| Some((self.domain.form(&a.name)?, a))) {
            let slots = active.slots.clone();
            let next = decide::next_step(form, &slots, Some(&active.phase));
            apply::form_next(self, state, form, &slots, &next);
            self.form_next(state, form, &next, &slots, false, &mut messages);
        }
        apply::record(state, &messages, now_ms);
        messages
    }

    /// The values of the owner's list entities among `entities`, in order, each once, `_` read
    /// as a space ([`Turn::recommend_terms`]).
    fn list_values(&self, entities: &[crate::entities::Entity]) -> Vec<String> {
        let is_list = |name: &str| {
            self.domain.definition.entities.iter().any(|e| matches!(e, crate::definition::EntityDef::List { name: n, .. } if n == name))
        };
        let mut values: Vec<String> = Vec::new();
        for e in entities.iter().filter(|e| is_list(&e.entity)) {
            let value = e.value.replace('_', " ");
            if !values.contains(&value) {
                values.push(value);
            }
        }
        values
    }

    pub(crate) fn respond_impl(&self, state: &mut ConversationState, input: Input, at: TurnContext) -> Turn {
        let now_ms = at.now_ms;
        apply::touch(self, state, now_ms);
        // A language button: the visitor's choice, confirmed by the greeting in that language.
        if let Input::QuickReply { label, locale: Some(code), .. } = &input {
            if let Some(chosen) = locale::bot_locale(self, code) {
                locale::choose(state, &chosen);
                let messages = vec![self.greeting(state)];
                return finish(state, label.clone(), None, 1.0, None, messages, now_ms);
            }
        }
        let (text, pressed) = match input {
            Input::Text { text } => (text, None),
            Input::QuickReply { label, intent: Some(intent), .. } if self.domain.intent(&intent).is_some() => {
                (label, Some(intent))
            }
            Input::QuickReply { label, .. } => (label, None),
        };
        if text.trim().is_empty() && pressed.is_none() {
            return Turn::default();
        }
        // The answer to an open satisfaction question ends there (anything else drops it).
        if let Some(messages) = self.csat_answer(state, &text, pressed.is_some(), now_ms) {
            return finish(state, text, None, 1.0, None, messages, now_ms);
        }

        // Inside a form the tagger looks for the slots of the intent that started it.
        let form_intent = state.form.as_ref().and_then(|a| {
            self.domain.definition.intents.iter().position(|i| i.form.as_deref() == Some(a.name.as_str()))
        });
        // A "did you mean" suggestion pressed teaches what the message before it meant.
        if let Some(intent) = &pressed {
            super::taught::record_pick(state, &text, intent, now_ms);
        }
        let understanding = pressed.is_none().then(|| {
            let mut u = understand(self, &text, Some((&state.profile.locale, at)), form_intent);
            super::taught::personalise(self, state, &text, &mut u);
            u
        });
        let locale_step = understanding.as_ref().map(|u| locale::step(self, state, u));
        if let Some(step) = &locale_step {
            locale::apply(state, step);
        }
        apply::observe(self, state, understanding.as_ref());
        if let Some(u) = &understanding {
            apply::learn(self, state, &u.result.entities, now_ms);
        }
        // A request for a language, or a message in one the bot lacks, is answered by the
        // greeting in the chosen locale or by the offer of the bot's languages, and nothing else.
        let about_language = match &locale_step {
            Some(LocaleStep::Choose(_)) => Some(self.greeting(state)),
            Some(LocaleStep::Offer(lang)) => Some(locale::offer(self, state, *lang)),
            _ => None,
        };
        if let Some(message) = about_language {
            let u = understanding.map(|u| u.result);
            let (confidence, sentiment) = (u.as_ref().map_or(0.0, |u| u.confidence), u.as_ref().map(|u| u.sentiment));
            let mut turn = finish(state, text, None, confidence, sentiment, vec![message], now_ms);
            turn.nlu = u;
            return turn;
        }
        // What the turn reads of the message (the transcript keeps all of it).
        let read = crate::dialogue::nlu_text(&text);
        // Right after products were shown, a short message about them ("cheaper?", "compare
        // them") is for the caller's catalog, whatever intent it resembles.
        if let Some(follow_up) = pressed.is_none().then(|| shopping::follow_up(self, state, read)).flatten() {
            let u = understanding.map(|u| u.result);
            let (confidence, sentiment) = (u.as_ref().map_or(0.0, |u| u.confidence), u.as_ref().map(|u| u.sentiment));
            let mut turn = finish(state, text, Some(follow_up.intent), confidence, sentiment, Vec::new(), now_ms);
            turn.nlu = u;
            turn.recommend = follow_up.recommend;
            turn.recommend_terms = follow_up.terms;
            turn.products = Some(follow_up.products);
            return turn;
        }
        let (intent_name, confidence) = match (&pressed, &understanding) {
            (Some(name), _) => (Some(name.clone()), 1.0),
            (None, Some(u)) => (u.result.intent.clone(), u.result.confidence),
            (None, None) => (None, 0.0),
        };
        let sentiment = understanding.as_ref().map(|u| u.result.sentiment);
        let heard = Heard {
            text: read,
            intent: intent_name.as_deref().and_then(|n| self.domain.intent(n)),
            confidence,
            pressed: pressed.is_some(),
            entities: understanding.as_ref().map(|u| u.result.entities.as_slice()).unwrap_or(&[]),
            intent_probs: understanding.as_ref().map(|u| u.intent_probs.as_slice()).unwrap_or(&[]),
            words: understanding.as_ref().map_or(0, |u| u.language_words),
            negative: sentiment.is_some_and(|s| s <= crate::sentiment::NEGATIVE),
        };

        let decision = decide(self, state, &heard);
        apply(self, state, &decision);
        let mut messages = render(self, state, &decision, heard.negative);

        // A second strongly negative message: offer a person, unless one was just asked for
        // or a button of this turn already offers one.
        let handoff = decision.handoff();
        let offered = messages.iter().flat_map(|m| &m.quick_replies).any(|q| {
            q.intent.as_deref().and_then(|i| self.domain.intent(i)).is_some_and(|i| i.action == Some(Action::Handoff))
        });
        let negatives = decide::negatives(self, state.negatives, handoff, offered);
        apply::negatives(state, negatives);
        if negatives == Negatives::Offer {
            messages.extend(self.person_offer(state));
        }
        // The visitor's entry carries the intent acted on, so a stored transcript tells what
        // happened (the NLU's own guess stays in the turn's `nlu`).
        let acted_on = decision.acted_on(heard.intent).map(str::to_owned);
        messages.extend(self.csat_after_turn(state, acted_on.as_deref()));
        // The catalog ranks the part of the message the NLU read: a pasted novel is not a request.
        let recommend = decision.recommend(read);
        let recommend_terms = if recommend.is_some() { self.list_values(heard.entities) } else { Vec::new() };
        let submit = decision.submit();
        let privacy = decision.privacy();
        let with_products = recommend.as_ref().and_then(|_| render::with_products(self, state, &decision));
        shopping::after(self, state, &decision, recommend.as_deref(), &recommend_terms, with_products.as_ref().map(|m| m.text.as_str()));
        let fell_back = matches!(decision, decide::Decision::Act { act: decide::Act::Fallback { .. }, .. });
        let mut turn = finish(state, text, acted_on, confidence, sentiment, messages, now_ms);
        if let Some(entry) = fell_back.then(|| state.transcript.iter_mut().rfind(|e| e.from == Speaker::Visitor)).flatten() {
            entry.fallback = true;
        }
        turn.nlu = understanding.map(|u| u.result);
        turn.handoff = handoff;
        turn.recommend = recommend;
        turn.recommend_terms = recommend_terms;
        turn.with_products = with_products;
        turn.submit = submit;
        turn.privacy = privacy;
        turn
    }
}

/// Records the visitor's `text` (with the intent acted on, its confidence and sentiment) and
/// the bot's `messages` at `now_ms`, and returns the turn (without NLU, handoff or
/// recommendation: the caller adds them).
fn finish(
    state: &mut ConversationState,
    text: String,
    intent: Option<String>,
    confidence: f32,
    sentiment: Option<f32>,
    messages: Vec<BotMessage>,
    now_ms: u64,
) -> Turn {
    state.push(TranscriptEntry {
        from: Speaker::Visitor,
        text,
        time_ms: now_ms,
        intent: intent.clone(),
        confidence: Some(confidence),
        sentiment,
        quick_replies: Vec::new(),
        links: Vec::new(),
        fallback: false,
    });
    apply::record(state, &messages, now_ms);
    Turn { messages, intent, ..Turn::default() }
}
