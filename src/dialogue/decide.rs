//! The first step of a turn: what to do with the visitor's message, decided from the bot, the
//! stored state and what the NLU understood, without changing anything ([`decide`] is pure).
//!
//! The [`Decision`] it returns carries everything the two other steps need: the values to
//! store ([`super::apply`]) and the values to say ([`super::render`]). The order of the policy
//! is the one [`crate::dialogue`] describes: an active form first, then a follow-up, then the
//! recognised intent (or an owner entity that starts a form), then the fallback.

use std::collections::BTreeMap;

use crate::definition::{Action, DialogueSettings, FormDef, IntentDef, SiteValue, SlotDef, OUT_OF_SCOPE_INTENT, SITE_ORDER_STATUS};
use crate::dialogue::Bot;
use crate::replies::fill_placeholders;
use crate::entities::{Entity, BUILTIN_ENTITIES};
use crate::state::{ActiveForm, ConversationState, FormPhase, MemorySource};

/// Slot or entity name → value, as stored and as passed to Fluent.
pub(crate) type Values = BTreeMap<String, String>;

/// The value of a `uses` entity the conversation has not mentioned: Fluent selectors on it
/// take their default variant.
pub(crate) const UNKNOWN: &str = "none";

/// Unambiguous introductions after which the next word is a name even in lower case ("my
/// name is maria"). After weaker ones ("I'm…", "soy…") the owner's `remember_name` entity
/// decides (the demo bot's requires a capital: "I'm looking for boots" is no introduction).
const INTRODUCTIONS: &[&str] = &[
    "my name is",
    "my name's",
    "my first name is",
    "call me",
    "me llamo",
    "mi nombre es",
    "llámame",
    "llamame",
];

/// What [`decide`] reads about the visitor's message.
pub(crate) struct Heard<'a, 'd> {
    /// The message as typed, or the pressed button's label.
    pub(crate) text: &'a str,
    /// The recognised intent (at or above the threshold), or the pressed button's.
    pub(crate) intent: Option<&'d IntentDef>,
    /// The intent's confidence in [0, 1] (1 for a pressed button).
    pub(crate) confidence: f32,
    /// True when the visitor pressed a button with an intent (nothing was classified).
    pub(crate) pressed: bool,
    /// Entities found in the message (none for a pressed button).
    pub(crate) entities: &'a [Entity],
    /// Probability of every intent in definition order, in [0, 1] (empty when pressed).
    pub(crate) intent_probs: &'a [f32],
    /// Words of the message outside its entities (0 for a pressed button): 0 with entities
    /// is an entity alone, which decides no intent.
    pub(crate) words: usize,
    /// The message is strongly negative (sentiment at or below [`crate::sentiment::NEGATIVE`]).
    pub(crate) negative: bool,
}

/// What the turn does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision<'d> {
    /// The active form takes the message.
    Form {
        /// The form's definition.
        form: &'d FormDef,
        /// What it does with the message.
        step: FormStep<'d>,
    },
    /// The message is answered outside any form.
    Act {
        /// True when a form in progress ends first (the visitor asked for a person, pressed
        /// another button, or the definition no longer has the form).
        close_form: bool,
        /// The answer.
        act: Act<'d>,
    },
}

/// An answer outside a form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Act<'d> {
    /// An intent runs: its action, reply and form.
    Answer(Answer<'d>),
    /// No intent fits: the fallback message with "did you mean" buttons.
    Fallback {
        /// Indices of the suggested intents in the definition, best first (the handoff intent
        /// last when a person is offered).
        suggestions: Vec<usize>,
    },
}

/// A recognised intent with the values of its answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer<'d> {
    /// The intent.
    pub(crate) intent: &'d IntentDef,
    /// True when the message was a short follow-up to the context's intent ("and to Mexico?").
    pub(crate) follow_up: bool,
    /// The visitor's name to remember (title-cased), for a `remember_name` intent.
    pub(crate) name: Option<String>,
    /// Fluent variables and link placeholders of the reply: the message's entities (the first
    /// of each name) and every entity the reply `uses` ([`UNKNOWN`] when nobody mentioned it).
    pub(crate) values: Values,
    /// The new conversation context, when the reply `uses` entities.
    pub(crate) context: Option<NewContext>,
    /// The form the intent starts, with the slots the message already fills.
    pub(crate) form: Option<FormStart<'d>>,
}

/// The conversation context an answer sets: its intent becomes the topic of follow-ups, and
/// the values its reply used (known ones only) join the memory's context.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewContext {
    /// The values the reply used.
    pub(crate) values: Values,
    /// Visitor turns it lasts: the reply's `context_turns`, else the settings'.
    pub(crate) turns: u8,
}

/// A form started by an intent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FormStart<'d> {
    /// The form's definition.
    pub(crate) form: &'d FormDef,
    /// The slots filled by the message that started it.
    pub(crate) slots: Values,
    /// What the form does next.
    pub(crate) next: FormNext<'d>,
}

/// What a form does once its slots are known: ask the first empty one, ask for confirmation,
/// or close with its `done` reply. Computed by [`next_step`] only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FormNext<'d> {
    /// Ask for `slot`, with `tries` failed answers to it so far.
    Ask {
        /// The slot asked for.
        slot: &'d SlotDef,
        /// Failed answers so far.
        tries: u8,
    },
    /// Every slot is filled: ask the form's yes/no confirmation question.
    Confirm,
    /// Every slot is filled and there is nothing to confirm: close with the `done` reply.
    Done,
}

/// What an active form does with a message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FormStep<'d> {
    /// Valid values filled empty slots.
    Fill {
        /// Every slot value after the fill.
        slots: Values,
        /// What the form does next.
        next: FormNext<'d>,
    },
    /// While confirming, a valid value corrected a filled slot ("make it an exchange"): the
    /// confirmation question is asked again with the new values.
    Correct {
        /// Every slot value after the correction.
        slots: Values,
    },
    /// Yes to the confirmation question: the form closes with its `done` reply.
    Confirmed {
        /// The slot values.
        slots: Values,
    },
    /// The visitor cancelled (the cancel intent, or no to the confirmation question).
    Cancel,
    /// A side question: answered, then the form asks again where it was.
    SideQuestion {
        /// The answer to the side question.
        answer: Box<Answer<'d>>,
        /// The slot values (unchanged).
        slots: Values,
        /// What the form asks again.
        next: FormNext<'d>,
    },
    /// A question the bot could not place (no intent clears the threshold, no value of the
    /// slot in it): the fallback with its "did you mean" buttons, then the form asks again
    /// where it was without counting a try: "could you maybe sing me a little song about
    /// llamas?" asked for an order number is no bad order number.
    Unclear {
        /// Indices of the suggested intents, as in [`Act::Fallback`].
        suggestions: Vec<usize>,
        /// The slot values (unchanged).
        slots: Values,
        /// What the form asks again.
        next: FormNext<'d>,
    },
    /// Not a valid answer to the slot asked: say so and ask again.
    Reprompt {
        /// The slot asked for.
        slot: &'d SlotDef,
        /// Failed answers so far, this one included (below the slot's `max_tries`).
        tries: u8,
        /// The slot values (unchanged).
        slots: Values,
    },
    /// Neither yes nor no to the confirmation question: ask it again.
    ConfirmAgain {
        /// The slot values.
        slots: Values,
    },
    /// The slot's `max_tries` failed answers: the form ends with its `give_up` message.
    GiveUp,
}

impl Decision<'_> {
    /// True when the turn asks for a person (an intent with the handoff action runs).
    pub(crate) fn handoff(&self) -> bool {
        match self {
            Decision::Act { act: Act::Answer(answer), .. } => answer.intent.action == Some(Action::Handoff),
            _ => false,
        }
    }

    /// The request for the caller's catalog, if the turn recommends products: the visitor's
    /// `text` when an intent with the recommend action runs; the form's `recommend` template
    /// filled with its slots when a form with one is done (a preference quiz ends).
    pub(crate) fn recommend(&self, text: &str) -> Option<String> {
        let done = |form: &FormDef, slots: &Values| form.recommend.as_deref().and_then(|t| fill_placeholders(t, slots, str::to_owned));
        match self {
            Decision::Act { act: Act::Answer(answer), .. } if answer.intent.action == Some(Action::Recommend) => Some(text.to_owned()),
            Decision::Act { act: Act::Answer(Answer { form: Some(FormStart { form, slots, next: FormNext::Done }), .. }), .. } => done(form, slots),
            Decision::Form { form, step: FormStep::Fill { slots, next: FormNext::Done } | FormStep::Confirmed { slots } } => done(form, slots),
            _ => None,
        }
    }

    /// What the turn asks the caller to do with the visitor's stored profile: show it or
    /// confirm forgetting it, when an intent with the show_profile or forget_me action runs.
    pub(crate) fn privacy(&self) -> Option<crate::dialogue::PrivacyRequest> {
        match self {
            Decision::Act { act: Act::Answer(answer), .. } => match answer.intent.action {
                Some(Action::ShowProfile) => Some(crate::dialogue::PrivacyRequest::Show),
                Some(Action::ForgetMe) => Some(crate::dialogue::PrivacyRequest::Forget),
                _ => None,
            },
            _ => None,
        }
    }

    /// The slots of a form with `submit` that is done this turn (its last slot filled, or its
    /// confirmation answered yes), for the caller to offer to send.
    pub(crate) fn submit(&self) -> Option<crate::dialogue::FormSubmit> {
        let done = |form: &FormDef, slots: &Values| form.submit.map(|kind| crate::dialogue::FormSubmit { kind, fields: slots.clone() });
        match self {
            Decision::Act { act: Act::Answer(Answer { form: Some(FormStart { form, slots, next: FormNext::Done }), .. }), .. } => done(form, slots),
            Decision::Form { form, step: FormStep::Fill { slots, next: FormNext::Done } | FormStep::Confirmed { slots } } => done(form, slots),
            _ => None,
        }
    }

    /// The intent acted on: the answered intent, the message's own (`heard`) for a form step,
    /// `None` for the fallback. A value that filled the form is the answer, whatever its words
    /// read as: "my order number is CU-778899" is not the `no_order_number` that the form
    /// overrode (nor a cancel or a request for a person that a slot value overrides).
    pub(crate) fn acted_on<'a>(&'a self, heard: Option<&'a IntentDef>) -> Option<&'a str> {
        let overridden =
            |i: &IntentDef| i.ends_form || matches!(i.action, Some(Action::CancelForm | Action::Handoff));
        match self {
            Decision::Form { step: FormStep::Fill { .. } | FormStep::Correct { .. }, .. }
                if heard.is_some_and(overridden) =>
            {
                None
            }
            Decision::Form { .. } => heard.map(|i| i.name.as_str()),
            Decision::Act { act: Act::Answer(answer), .. } => Some(&answer.intent.name),
            Decision::Act { act: Act::Fallback { .. }, .. } => None,
        }
    }
}

/// What happens to the count of strongly negative messages after a turn's messages are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negatives {
    /// Nothing.
    Keep,
    /// A person was asked for or offered: start counting again.
    Reset,
    /// Enough of them: add the contact's `offer` with a handoff button, and start again.
    Offer,
}

/// Decides the turn for `heard` in `state` (after [`super::apply::observe`] aged the memory
/// and counted the message). Pure: the bot, the state and the message in, a [`Decision`] out.
pub(crate) fn decide<'d>(bot: &'d Bot, state: &ConversationState, heard: &Heard<'_, 'd>) -> Decision<'d> {
    let mut close_form = false;
    if let Some(active) = &state.form {
        match bot.domain.form(&active.name).filter(|f| is_current(f, active)) {
            Some(form) => match decide_form(bot, state, active, form, heard) {
                Some(step) => return Decision::Form { form, step },
                None => close_form = true,
            },
            // The definition changed under a stored state: forget the form.
            None => close_form = true,
        }
    }
    Decision::Act { close_form, act: decide_act(bot, state, heard) }
}

/// True when `active` still fits `form`: the slot it asks for is one of the form's.
fn is_current(form: &FormDef, active: &ActiveForm) -> bool {
    match &active.phase {
        FormPhase::Asking { slot, .. } => form.slots.iter().any(|s| &s.name == slot),
        FormPhase::Confirming => true,
    }
}

/// The slot `active` asks for (none while confirming).
fn asked_slot<'d>(form: &'d FormDef, active: &ActiveForm) -> Option<(&'d SlotDef, u8)> {
    match &active.phase {
        FormPhase::Asking { slot, tries } => form.slots.iter().find(|s| &s.name == slot).map(|s| (s, *tries)),
        FormPhase::Confirming => None,
    }
}

/// What a form with `slots` filled does next: ask its first empty slot (keeping the tries of
/// `phase` when that is the slot it asks), confirm, or close. The one place that looks for the
/// first empty slot.
pub(crate) fn next_step<'d>(form: &'d FormDef, slots: &Values, phase: Option<&FormPhase>) -> FormNext<'d> {
    match form.slots.iter().find(|s| !slots.contains_key(&s.name)) {
        Some(slot) => {
            let tries = match phase {
                Some(FormPhase::Asking { slot: asked, tries }) if asked == &slot.name => *tries,
                _ => 0,
            };
            FormNext::Ask { slot, tries }
        }
        None if form.confirm.is_some() => FormNext::Confirm,
        None => FormNext::Done,
    }
}

/// The slots after filling `form`'s empty ones (every one while `correcting`) from entities
/// that pass the slot's checks, each entity used at most once; `None` when nothing was filled.
fn fill(bot: &Bot, form: &FormDef, slots: &Values, correcting: bool, entities: &[Entity]) -> Option<Values> {
    let mut slots = slots.clone();
    let mut used = vec![false; entities.len()];
    let mut filled = false;
    for slot in &form.slots {
        if slots.contains_key(&slot.name) && !correcting {
            continue;
        }
        if let Some(i) = (0..entities.len())
            .find(|&i| !used[i] && entities[i].entity == slot.entity && bot.domain.slot_accepts(slot, &entities[i].value))
        {
            used[i] = true;
            slots.insert(slot.name.clone(), entities[i].value.clone());
            filled = true;
        }
    }
    filled.then_some(slots)
}

/// True when `text` on its own is classified as an intent (not the reserved out-of-scope
/// one) at or above the bot's threshold. The familiar-wording rule does not apply: the words
/// left around a slot value ("I" of "I changed my mind") are familiar without asking for
/// anything.
fn is_request(bot: &Bot, text: &str) -> bool {
    let (probs, order, _) = super::classify(bot, text);
    order.first().is_some_and(|&i| {
        probs[i] >= bot.domain.settings.threshold && bot.domain.definition.intents[i].name != OUT_OF_SCOPE_INTENT
    })
}

/// True when the visitor phrased `text` as a clear question: `?` or Spanish `¿` in it and at
/// least [`DialogueSettings::question_min_words`] words. A question whose intent is acted on
/// (at the bot's threshold, or by the familiar-wording rule) is a side question inside a form
/// even below [`DialogueSettings::side_question_confidence`]: "when will I get my money back
/// for the return?" splits its mass between two reply intents (refund_status 0.55, refunds
/// 0.44) yet is no order number.
fn asks_a_question(text: &str, settings: &DialogueSettings) -> bool {
    text.contains(['?', '¿']) && text.split_whitespace().count() >= usize::from(settings.question_min_words)
}

/// The step of the active form for the message; `None` when the message is not for the form
/// after all (the form then closes and the message is answered as usual).
fn decide_form<'d>(
    bot: &'d Bot,
    state: &ConversationState,
    active: &ActiveForm,
    form: &'d FormDef,
    heard: &Heard<'_, 'd>,
) -> Option<FormStep<'d>> {
    let settings = &bot.domain.settings;
    let entities = heard.entities;
    let asked = asked_slot(form, active);
    // A valid value for the slot being asked for answers it, even when the message reads
    // as cancelling (or asking for a person), unless the words around the value make a
    // request of their own: asked for the reason of a return, "I changed my mind" is the
    // reason; "cancel the return, I changed my mind" still cancels.
    let asked_value = asked.and_then(|(slot, _)| {
        entities.iter().find(|e| e.entity == slot.entity && bot.domain.slot_accepts(slot, &e.value))
    });
    let intent = heard.intent.filter(|i| {
        heard.pressed
            || !matches!(i.action, Some(Action::CancelForm | Action::Handoff))
            || asked_value.is_none_or(|value| is_request(bot, &without_span(heard.text, value)))
    });
    // A number is an attempt at the value ("die Nummer ist 48291").
    let has_number = entities.iter().any(|e| e.entity == "number");
    // An intent that ends forms ("I don't have the order number") is answered outside it;
    // not when the message carries the value ("my order number is CU-778899") or a number.
    if intent.is_some_and(|i| i.ends_form) && !heard.pressed && asked_value.is_none() && !has_number {
        return None;
    }
    match intent.and_then(|i| i.action) {
        Some(Action::CancelForm) => return Some(FormStep::Cancel),
        Some(Action::Handoff) => return None,
        Some(Action::Recommend | Action::ShowProfile | Action::ForgetMe) | None => {}
    }
    let confirming = active.phase == FormPhase::Confirming;
    if let (true, Some(confirm), Some(intent)) = (confirming, &form.confirm, intent) {
        if intent.name == confirm.yes {
            return Some(FormStep::Confirmed { slots: active.slots.clone() });
        }
        if intent.name == confirm.no {
            return Some(FormStep::Cancel);
        }
    }
    if heard.pressed {
        // A button the visitor pressed is an explicit choice of something else.
        return None;
    }
    // A confident side question ("what are your opening hours?") is answered, then the
    // slot is asked for again without counting a try; so is a message phrased as a
    // question whose intent is acted on (by the threshold or the familiar-wording rule:
    // "wie lange dauert der Versand nach Österreich?" is international_shipping 0.47 and
    // shipping_times 0.46, and no order number). Intents that start a form of their own
    // are not side questions: the visitor is most likely answering badly.
    let question = asks_a_question(heard.text, settings);
    // A form's yes or no ("yes" asked for a refund or an exchange) is a bad answer, not a
    // side question whose reply says "Great! What else can I help you with?".
    let yes_or_no = |i: &IntentDef| {
        bot.domain.definition.forms.iter().filter_map(|f| f.confirm.as_ref()).any(|c| c.yes == i.name || c.no == i.name)
    };
    let answers_aside = |i: &&IntentDef| {
        i.form.is_none()
            && !i.ends_form
            && !yes_or_no(i)
            && i.reply.is_some()
            && i.remember_name.as_ref().is_none_or(|e| entities.iter().any(|x| &x.entity == e))
    };
    let side_question =
        intent.filter(|_| heard.confidence >= settings.side_question_confidence || question).filter(answers_aside);
    // A value of the slot's entity that failed its checks is an answer, not a side question.
    let attempted = asked.is_some_and(|(slot, _)| entities.iter().any(|e| e.entity == slot.entity));
    let side_step = |side: &'d IntentDef, follow_up: bool| FormStep::SideQuestion {
        answer: Box::new(decide_answer(bot, state, side, heard, follow_up)),
        slots: active.slots.clone(),
        next: next_step(form, &active.slots, Some(&active.phase)),
    };
    // A question without the value asked for is a side question even when it names a value
    // of a later slot: asked for the order number of a return, "actually, what's your refund
    // policy?" is about refunds, and does not choose a refund (its `resolution` entity
    // filled the last slot, and the question went unanswered).
    if let Some(side) = side_question.filter(|_| question && !attempted && !confirming) {
        return Some(side_step(side, false));
    }
    if let Some(slots) = fill(bot, form, &active.slots, confirming, entities) {
        if confirming && form.confirm.is_some() {
            return Some(FormStep::Correct { slots });
        }
        let next = next_step(form, &slots, None);
        return Some(FormStep::Fill { slots, next });
    }
    if let Some(side) = side_question.filter(|_| !attempted) {
        return Some(side_step(side, false));
    }
    // A short follow-up to the last side question ("what about mexico?" after the shipping
    // costs to Canada), with no attempt at the value in it, is answered as one too, as it
    // would be outside the form.
    let has_own = intent.is_some_and(|i| heard.confidence >= settings.follow_up_confidence && answers_aside(&i));
    if let Some(previous) = follow_up(bot, state, heard.text, entities).filter(answers_aside) {
        if !attempted && !has_number && !has_own {
            return Some(side_step(previous, true));
        }
    }
    // A clear question that no intent answers confidently, with no attempt at a value in it
    // (no value of the slot's entity, no number), is not a bad value either.
    if question && intent.is_none() && !attempted && !has_number {
        return Some(FormStep::Unclear {
            suggestions: suggestions(bot, state, heard),
            slots: active.slots.clone(),
            next: next_step(form, &active.slots, Some(&active.phase)),
        });
    }
    let Some((slot, tries)) = asked else {
        // Confirming and the answer is neither yes nor no: ask again.
        return Some(FormStep::ConfirmAgain { slots: active.slots.clone() });
    };
    let tries = tries.saturating_add(1);
    Some(if tries >= slot.max_tries.unwrap_or(bot.domain.settings.slot_tries) {
        FormStep::GiveUp
    } else {
        FormStep::Reprompt { slot, tries, slots: active.slots.clone() }
    })
}

/// The answer outside any form: a follow-up, the recognised intent, an intent whose form an
/// owner entity starts, or the fallback.
fn decide_act<'d>(bot: &'d Bot, state: &ConversationState, heard: &Heard<'_, 'd>) -> Act<'d> {
    let entities = heard.entities;
    // A name-remembering intent without the name in the message was not understood.
    let usable = heard.intent.filter(|i| {
        i.remember_name
            .as_ref()
            .is_none_or(|e| entities.iter().any(|x| &x.entity == e) || introduced_name(heard.text).is_some())
    });
    // An intent that ends forms ("I can't find my order number") is not what a message
    // carrying the value a form asks for first means: "o número do pedido é CU-778899"
    // (no_order_number 0.96) starts that form with it.
    let usable = usable.filter(|i| heard.pressed || !i.ends_form || entity_led_intent(bot, state, heard).is_none());
    let usable = usable.or_else(|| settled_by_entity(bot, heard));
    // A short message carrying an entity the context's intent talks about, and no
    // confident intent of its own, is a follow-up: "and to Mexico?" after shipping to
    // Canada answers the shipping question again for Mexico.
    // An intent of its own that talks about the same entity keeps the message ("can
    // you send stuff to Germany?" after a delivery-time question is about shipping
    // abroad), when it clears the threshold: one acted on by the familiar-wording rule
    // alone is too unsure to beat the conversation's topic ("what about the fleece?"
    // after "is the jacket waterproof?" reads as sizing 0.38).
    let own_use = |i: &IntentDef| {
        i.reply.as_ref().is_some_and(|r| r.uses.iter().any(|u| entities.iter().any(|e| &e.entity == u)))
    };
    let follow_up = if heard.pressed { None } else { follow_up(bot, state, heard.text, entities) };
    let (usable, is_follow_up) = match follow_up {
        Some(previous)
            if usable.is_none_or(|u| {
                heard.confidence < bot.domain.settings.follow_up_confidence
                    && (!own_use(u) || heard.confidence < bot.domain.settings.threshold)
            }) =>
        {
            (Some(previous), true)
        }
        _ => (usable, false),
    };
    // Below the threshold, a message carrying an owner-defined entity that a form asks
    // for first ("CU-123456" on its own) starts that form: the entity says more than
    // the classifier could.
    match usable.or_else(|| entity_led_intent(bot, state, heard)) {
        Some(intent) => Act::Answer(decide_answer(bot, state, intent, heard, is_follow_up)),
        None => Act::Fallback { suggestions: suggestions(bot, state, heard) },
    }
}

/// Below the threshold, the one of the two best intents whose reply talks about an entity
/// the message names, when the two together are at least
/// [`DialogueSettings::pair_confidence`] probable and the message has words besides its
/// entities (the better of the two when both do); `None` when neither does.
fn settled_by_entity<'d>(bot: &'d Bot, heard: &Heard<'_, 'd>) -> Option<&'d IntentDef> {
    if heard.pressed || heard.intent.is_some() || heard.words == 0 || heard.entities.is_empty() {
        return None;
    }
    let probs = heard.intent_probs;
    let [a, b] = super::understand::best_first(probs, 2)[..] else { return None };
    if probs[a] + probs[b] < bot.domain.settings.pair_confidence {
        return None;
    }
    let intents = &bot.domain.definition.intents;
    let talks = |i: usize| {
        intents[i].name != OUT_OF_SCOPE_INTENT
            && intents[i].reply.as_ref().is_some_and(|r| r.uses.iter().any(|u| heard.entities.iter().any(|e| &e.entity == u)))
    };
    [a, b].into_iter().find(|&i| talks(i)).map(|i| &intents[i])
}

/// The topic's intent when `text` is a follow-up to it: short, and carrying an entity
/// the intent's reply uses.
fn follow_up<'d>(bot: &'d Bot, state: &ConversationState, text: &str, entities: &[Entity]) -> Option<&'d IntentDef> {
    let topic = state.topic.as_ref()?;
    let intent = bot.domain.intent(&topic.intent)?;
    let uses = &intent.reply.as_ref()?.uses;
    let short = text.split_whitespace().count() <= usize::from(bot.domain.settings.follow_up_max_words);
    (short && entities.iter().any(|e| uses.contains(&e.entity))).then_some(intent)
}

/// The intent whose form asks first for an owner-defined entity found in the message: of
/// several, the one the bot's last messages offered as a button ("CU-123456" right after the
/// returns answer offered "Start a return in the chat" starts the return, not the tracking),
/// else the first in the definition (the classifier, reading the entity alone, is no guide:
/// it ranks a bare order number as a return's, whose examples name more of them).
/// Built-in entities (a bare number, an e-mail) are too common to start a form on their own.
fn entity_led_intent<'d>(bot: &'d Bot, state: &ConversationState, heard: &Heard<'_, 'd>) -> Option<&'d IntentDef> {
    let takes_first = |intent: &IntentDef| {
        intent
            .form
            .as_deref()
            .and_then(|f| bot.domain.form(f))
            .and_then(|f| f.slots.first())
            .is_some_and(|slot| {
                !BUILTIN_ENTITIES.contains(&slot.entity.as_str()) && heard.entities.iter().any(|e| e.entity == slot.entity)
            })
    };
    let intents = &bot.domain.definition.intents;
    let offered = |intent: &IntentDef| {
        state
            .transcript
            .iter()
            .rev()
            .take_while(|e| e.from == crate::state::Speaker::Bot)
            .any(|e| e.quick_replies.iter().any(|q| q.intent.as_deref() == Some(intent.name.as_str())))
    };
    let mut candidates = intents.iter().filter(|i| takes_first(i));
    let first = candidates.next()?;
    std::iter::once(first).chain(candidates).find(|i| offered(i)).or(Some(first))
}

/// Fills the empty slots of `form` that take an order from the site (`from_site: "order"`)
/// with the logged-in customer's order the visitor means (the one whose items they named,
/// else the newest), and sets [`SITE_ORDER_STATUS`] to that order's status; a number the
/// visitor typed that is one of their orders gets its status too.
fn from_site(state: &ConversationState, form: &FormDef, slots: &mut Values, entities: &[Entity]) {
    let Some(customer) = &state.profile.customer else { return };
    for slot in form.slots.iter().filter(|s| s.from_site == Some(SiteValue::Order)) {
        let order = match slots.get(&slot.name) {
            Some(typed) => customer.orders.iter().find(|o| o.id.eq_ignore_ascii_case(typed)),
            None => {
                let named: Vec<&str> = entities.iter().map(|e| e.value.as_str()).collect();
                customer.order_for(&named)
            }
        };
        if let Some(order) = order {
            slots.insert(slot.name.clone(), order.id.clone());
            slots.insert(SITE_ORDER_STATUS.to_owned(), order.status.clone());
        }
    }
}

/// Runs a recognised intent, on paper: the name to remember, the reply's values and context,
/// the form it starts.
fn decide_answer<'d>(
    bot: &'d Bot,
    state: &ConversationState,
    intent: &'d IntentDef,
    heard: &Heard<'_, 'd>,
    follow_up: bool,
) -> Answer<'d> {
    let entities = heard.entities;
    let name = intent.remember_name.as_ref().and_then(|entity| {
        entities
            .iter()
            .find(|e| &e.entity == entity)
            .map(|e| e.value.clone())
            .or_else(|| introduced_name(heard.text))
            .map(|n| capitalize_name(&n))
            .filter(|n| !n.is_empty())
    });
    // The first entity of a name wins. Inserted one by one: `collect` into a BTreeMap would
    // compile one more copy of std's sort into the wasm.
    let mut values = Values::new();
    for e in entities.iter().rev() {
        values.insert(e.entity.clone(), e.value.clone());
    }
    // Entities the reply talks about: from the message, else the memory (the value the
    // visitor mentioned last in any recent message, "is it waterproof?" about the tent of a
    // complaint two turns ago, or the context's), else `none`; then remembered.
    let mut context = None;
    if let Some(reply) = intent.reply.as_ref().filter(|r| !r.uses.is_empty()) {
        let mut used = Values::new();
        for entity in &reply.uses {
            let value = values
                .get(entity)
                .map(String::as_str)
                .or_else(|| state.memory.recall(entity))
                .unwrap_or(UNKNOWN)
                .to_owned();
            if value != UNKNOWN {
                used.insert(entity.clone(), value.clone());
            }
            values.insert(entity.clone(), value);
        }
        context = Some(NewContext {
            values: used,
            turns: reply.context_turns.unwrap_or(bot.domain.settings.context_turns),
        });
    }
    let form = intent.form.as_deref().and_then(|f| bot.domain.form(f)).map(|form| {
        let mut slots = fill(bot, form, &Values::new(), false, entities).unwrap_or_default();
        // What the visitor said in a recent message is not asked again: "I want to return my
        // jacket", then the return form, has its item. Only values the visitor mentioned (not
        // a finished form's, which would track the same order again), when the slot takes
        // them; a form with a confirmation shows them before it acts.
        for slot in &form.slots {
            if slots.contains_key(&slot.name) {
                continue;
            }
            let mentioned = state.memory.get(&slot.entity).filter(|m| m.source == MemorySource::Mentioned);
            if let Some(m) = mentioned.filter(|m| bot.domain.slot_accepts(slot, &m.value)) {
                slots.insert(slot.name.clone(), m.value.clone());
            }
        }
        from_site(state, form, &mut slots, entities);
        let next = next_step(form, &slots, None);
        FormStart { form, slots, next }
    });
    Answer { intent, follow_up, name, values, context, form }
}

/// The "did you mean" buttons: the best titled intents; after
/// [`DialogueSettings::fallbacks_before_offer`] fallbacks in a row (this one included), or for a
/// strongly negative message, the handoff intent too.
fn suggestions(bot: &Bot, state: &ConversationState, heard: &Heard<'_, '_>) -> Vec<usize> {
    let def = &bot.domain.definition;
    let mut order: Vec<usize> = (0..def.intents.len()).collect();
    let prob = |i: usize| heard.intent_probs.get(i).copied().unwrap_or(0.0);
    crate::sort::sort_by(&mut order, |&a, &b| prob(b).total_cmp(&prob(a)));
    let suggestable = |i: &usize| {
        def.intents[*i].title.is_some()
            && def.intents[*i].action != Some(Action::CancelForm)
            && def.intents[*i].name != OUT_OF_SCOPE_INTENT
    };
    let mut chosen: Vec<usize> = order.into_iter().filter(suggestable).take(def.fallback.suggestions).collect();
    let misses = state.fallbacks_in_a_row.saturating_add(1);
    if misses >= u32::from(bot.domain.settings.fallbacks_before_offer) || heard.negative {
        if let Some(h) = (0..def.intents.len()).find(|&i| def.intents[i].action == Some(Action::Handoff) && suggestable(&i)) {
            if !chosen.contains(&h) {
                chosen.push(h);
            }
        }
    }
    chosen
}

/// What the turn does with the count of strongly negative messages (`negatives`, this one
/// included) once its messages are known: `handoff` when the turn asks for a person,
/// `offered` when one of its buttons offers one. A button under an earlier reply does not
/// count: a visitor still upset after it is offered a person in so many words.
pub(crate) fn negatives(bot: &Bot, negatives: u32, handoff: bool, offered: bool) -> Negatives {
    let enough = negatives >= u32::from(bot.domain.settings.negatives_before_offer);
    if handoff || (offered && enough) {
        Negatives::Reset
    } else if enough && bot.domain.definition.contact.as_ref().is_some_and(|c| c.offer.is_some()) {
        Negatives::Offer
    } else {
        Negatives::Keep
    }
}

/// The word after an unambiguous introduction ("my name is maria" → `maria`), any case.
fn introduced_name(text: &str) -> Option<String> {
    let lower = crate::text::to_lowercase(text);
    INTRODUCTIONS.iter().find_map(|intro| {
        let at = lower.find(intro)?;
        let before_ok = lower[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let rest = &lower[at + intro.len()..];
        if !before_ok || !rest.starts_with(char::is_whitespace) {
            return None;
        }
        let word: String =
            rest.trim_start().chars().take_while(|c| c.is_alphabetic() || *c == '\'' || *c == '-').collect();
        (word.chars().count() >= 2).then_some(word)
    })
}

/// `text` without the chars `entity` covers (offsets in chars, end exclusive).
fn without_span(text: &str, entity: &Entity) -> String {
    text.chars()
        .enumerate()
        .filter(|(k, _)| *k < entity.start || *k >= entity.end)
        .map(|(_, c)| c)
        .collect()
}

/// Title-cases a name the visitor typed in lower case (`ana maría` → `Ana María`).
fn capitalize_name(raw: &str) -> String {
    raw.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => crate::text::uppercase_char(first).chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mini() -> Bot {
        Bot::from_json(include_str!("../../tests/fixtures/bots/mini.json")).expect("mini bot trains")
    }

    fn order_number(value: &str) -> Entity {
        Entity { entity: "order_number".into(), value: value.into(), raw: value.into(), start: 0, end: value.chars().count() }
    }

    fn heard<'a, 'd>(bot: &'d Bot, text: &'a str, intent: Option<&str>, entities: &'a [Entity]) -> Heard<'a, 'd> {
        Heard {
            text,
            intent: intent.and_then(|n| bot.domain.intent(n)),
            confidence: if intent.is_some() { 0.9 } else { 0.1 },
            pressed: false,
            entities,
            intent_probs: &[],
            words: text.split_whitespace().count(),
            negative: false,
        }
    }

    fn asking(tries: u8) -> ActiveForm {
        ActiveForm {
            name: "track_order".into(),
            slots: Values::new(),
            phase: FormPhase::Asking { slot: "order_number".into(), tries },
        }
    }

    #[test]
    fn a_valid_value_fills_the_form_and_closes_it() {
        let bot = mini();
        let mut state = bot.new_state("en", 1, 0);
        state.form = Some(asking(0));
        let entities = [order_number("AB12345")];
        match decide(&bot, &state, &heard(&bot, "AB12345", None, &entities)) {
            Decision::Form { step: FormStep::Fill { slots, next: FormNext::Done }, .. } => {
                assert_eq!(slots["order_number"], "AB12345")
            }
            other => panic!("expected a fill that closes the form, got {other:?}"),
        }
    }

    #[test]
    fn a_bad_answer_reprompts_until_the_slot_gives_up() {
        let bot = mini();
        let mut state = bot.new_state("en", 1, 0);
        state.form = Some(asking(0));
        match decide(&bot, &state, &heard(&bot, "no idea", None, &[])) {
            Decision::Form { step: FormStep::Reprompt { slot, tries: 1, .. }, .. } => assert_eq!(slot.name, "order_number"),
            other => panic!("expected a re-prompt, got {other:?}"),
        }
        state.form = Some(asking(2));
        assert!(matches!(
            decide(&bot, &state, &heard(&bot, "no idea", None, &[])),
            Decision::Form { step: FormStep::GiveUp, .. }
        ));
    }

    #[test]
    fn inside_a_form_cancel_cancels_and_a_confident_question_is_a_side_question() {
        let bot = mini();
        let mut state = bot.new_state("en", 1, 0);
        state.form = Some(asking(1));
        assert!(matches!(
            decide(&bot, &state, &heard(&bot, "cancel", Some("cancel"), &[])),
            Decision::Form { step: FormStep::Cancel, .. }
        ));
        match decide(&bot, &state, &heard(&bot, "when do you open?", Some("store_hours"), &[])) {
            Decision::Form { step: FormStep::SideQuestion { answer, next: FormNext::Ask { tries: 1, .. }, .. }, .. } => {
                assert_eq!(answer.intent.name, "store_hours")
            }
            other => panic!("expected a side question that keeps the tries, got {other:?}"),
        }
        // Asking for a person leaves the form and answers the handoff intent.
        match decide(&bot, &state, &heard(&bot, "a human please", Some("human"), &[])) {
            d @ Decision::Act { close_form: true, act: Act::Answer(_) } => assert!(d.handoff()),
            other => panic!("expected the form to close for the handoff, got {other:?}"),
        }
    }

    #[test]
    fn outside_a_form_an_intent_answers_and_nothing_falls_back() {
        let bot = mini();
        let mut state = bot.new_state("en", 1, 0);
        match decide(&bot, &state, &heard(&bot, "track my order", Some("track_order"), &[])) {
            Decision::Act { close_form: false, act: Act::Answer(answer) } => {
                let start = answer.form.expect("the intent starts its form");
                assert!(matches!(start.next, FormNext::Ask { tries: 0, .. }));
            }
            other => panic!("expected an answer that starts the form, got {other:?}"),
        }
        let probs = vec![0.1; bot.domain.definition.intents.len()];
        let mut nothing = heard(&bot, "blorp", None, &[]);
        nothing.intent_probs = &probs;
        let human = bot.domain.intent_id("human").unwrap().0;
        match decide(&bot, &state, &nothing) {
            Decision::Act { act: Act::Fallback { suggestions }, .. } => {
                assert_eq!(suggestions.len(), 3);
                assert!(!suggestions.contains(&human), "{suggestions:?}");
            }
            other => panic!("expected the fallback, got {other:?}"),
        }
        // The second miss in a row offers a person among the buttons.
        state.fallbacks_in_a_row = 1;
        match decide(&bot, &state, &nothing) {
            Decision::Act { act: Act::Fallback { suggestions }, .. } => assert!(suggestions.contains(&human), "{suggestions:?}"),
            other => panic!("expected the fallback, got {other:?}"),
        }
    }

    #[test]
    fn the_definition_settings_change_the_decision() {
        let mut def = mini().definition().clone();
        def.dialogue = Some(crate::definition::DialogueSettingsDef { fallbacks_before_offer: Some(1), ..Default::default() });
        let bot = Bot::train(def).expect("mini bot trains");
        let state = bot.new_state("en", 1, 0);
        let probs = vec![0.1; bot.domain.definition.intents.len()];
        let mut nothing = heard(&bot, "blorp", None, &[]);
        nothing.intent_probs = &probs;
        let human = bot.domain.intent_id("human").unwrap().0;
        match decide(&bot, &state, &nothing) {
            Decision::Act { act: Act::Fallback { suggestions }, .. } => assert!(suggestions.contains(&human), "{suggestions:?}"),
            other => panic!("expected the fallback, got {other:?}"),
        }
    }

    #[test]
    fn a_slot_without_max_tries_gives_up_after_the_settings_slot_tries() {
        let mut def = mini().definition().clone();
        def.forms[0].slots[0].max_tries = None;
        def.dialogue = Some(crate::definition::DialogueSettingsDef { slot_tries: Some(2), ..Default::default() });
        let bot = Bot::train(def).expect("mini bot trains");
        let mut state = bot.new_state("en", 1, 0);
        let asking = |tries| ActiveForm {
            name: "track_order".into(),
            slots: Values::new(),
            phase: FormPhase::Asking { slot: "order_number".into(), tries },
        };
        state.form = Some(asking(0));
        assert!(matches!(decide(&bot, &state, &heard(&bot, "blorp", None, &[])), Decision::Form { step: FormStep::Reprompt { .. }, .. }));
        state.form = Some(asking(1));
        assert!(matches!(decide(&bot, &state, &heard(&bot, "blorp", None, &[])), Decision::Form { step: FormStep::GiveUp, .. }));
    }

    #[test]
    fn while_confirming_a_new_value_corrects_and_yes_confirms() {
        let bot = Bot::from_json(include_str!("../../www/bots/store.json")).expect("store bot trains");
        let mut state = bot.new_state("en", 1, 0);
        let slots: Values = [("order_number", "CU-123456"), ("item", "jacket"), ("reason", "too_small"), ("resolution", "refund")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        state.form = Some(ActiveForm { name: "return_item".into(), slots: slots.clone(), phase: FormPhase::Confirming });
        let exchange = [Entity { entity: "resolution".into(), value: "exchange".into(), raw: "exchange".into(), start: 10, end: 18 }];
        match decide(&bot, &state, &heard(&bot, "make it an exchange", None, &exchange)) {
            Decision::Form { step: FormStep::Correct { slots }, .. } => assert_eq!(slots["resolution"], "exchange"),
            other => panic!("expected a correction, got {other:?}"),
        }
        let yes = bot.domain.definition.forms[1].confirm.as_ref().unwrap().yes.clone();
        assert_eq!(
            decide(&bot, &state, &heard(&bot, "yes", Some(&yes), &[])),
            Decision::Form { form: &bot.domain.definition.forms[1], step: FormStep::Confirmed { slots } }
        );
        assert!(matches!(
            decide(&bot, &state, &heard(&bot, "hmm", None, &[])),
            Decision::Form { step: FormStep::ConfirmAgain { .. }, .. }
        ));
    }

    #[test]
    fn names_are_capitalised() {
        assert_eq!(capitalize_name("ana  maría"), "Ana María");
        assert_eq!(capitalize_name("JOHN"), "JOHN");
    }
}
