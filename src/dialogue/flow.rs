//! The decision flow of one turn (forms first, then the recognised intent, then the fallback)
//! and the greeting at the start of a visit. Every function here takes the [`Bot`] and the
//! caller's [`ConversationState`] and never fails: whatever the visitor types gets an answer.

use std::collections::BTreeMap;

use crate::dialogue::Bot;
use crate::definition::{Action, FormDef, IntentDef, QuickReplyDef, ReplyDef};
use crate::dialogue::{is_allowed_url, BotMessage, Input, Link, NluResult, QuickReply, Turn, TurnContext};
use crate::entities::{Entity, ExtractContext, BUILTIN_ENTITIES};
use crate::text::Utterance;
use crate::state::{ActiveForm, Context, ConversationState, Mention, Speaker, TranscriptEntry};

/// A visitor away this long (ms) starts a new visit: counted, and greeted again.
pub(crate) const NEW_VISIT_AFTER_MS: u64 = 30 * 60 * 1000;

/// True when the visitor phrased `text` as a clear question: `?` or Spanish `¿` in it and at
/// least `min_words` words ([`DialogueSettings::question_min_words`]). A question whose intent
/// clears the bot's threshold is a side question inside a form even below
/// [`DialogueSettings::side_question_confidence`]: "when will I get my money back for the
/// return?" splits its mass between two reply intents (refund_status 0.55, refunds 0.44) yet is
/// no order number.
fn asks_a_question(text: &str, min_words: u8) -> bool {
    text.contains(['?', '¿']) && text.split_whitespace().count() >= usize::from(min_words)
}

/// Only this many chars of a message are classified: a pasted novel must not stall the page.
const MAX_NLU_CHARS: usize = 1000;

/// Ranking length in [`NluResult::ranking`].
const RANKING_LEN: usize = 5;

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

/// The value of a `uses` entity the conversation has not mentioned: Fluent selectors on it
/// take their default variant.
pub(crate) const UNKNOWN: &str = "none";

/// Everything the NLU computed for a message, including what [`NluResult`] leaves out.
pub(crate) struct Understanding {
    pub(crate) result: NluResult,
    /// Probability of every intent, in definition order.
    pub(crate) intent_probs: Vec<f32>,
    /// True when the message is long enough and the locale classifier sure enough that the
    /// replies should switch to [`NluResult::locale`].
    pub(crate) locale_is_clear: bool,
}

fn clean(p: f32) -> f32 {
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Classifies `text`: intent probabilities, ranking, locale and entities.
///
/// `conversation` is the conversation's reply locale and the turn's clock, when there is a
/// conversation: entities are then read in the locale the reply will be in (number words,
/// decimal comma) with relative dates resolved against the visitor's local time (`now_ms`
/// shifted by `utc_offset_min`: "tomorrow" is the visitor's tomorrow). Without it every supported
/// language is tried and relative dates are skipped.
///
/// `slot_intent` is the intent (definition index) whose learned slots the tagger looks for,
/// such as the one that started the active form; `None` takes the classifier's intent when it
/// is at or above the threshold, and every learned slot otherwise.
pub(crate) fn understand(
    bot: &Bot,
    text: &str,
    conversation: Option<(&str, TurnContext)>,
    slot_intent: Option<usize>,
) -> Understanding {
    let text = nlu_text(text);
    // One analysis of the message, read by every extractor below.
    let utterance = Utterance::analyze(text, conversation.map_or("", |(current, _)| current));
    let def = &bot.domain.definition;
    let (intent_probs, order) = classify_utterance(bot, &utterance);
    let ranking: Vec<(String, f32)> = order
        .iter()
        .take(RANKING_LEN)
        .map(|&i| (def.intents[i].name.clone(), intent_probs[i]))
        .collect();
    let (best, confidence) = order
        .first()
        .map(|&i| (i, intent_probs[i]))
        .unwrap_or((0, 0.0));
    let intent = (confidence >= bot.domain.threshold
        && !order.is_empty()
        && def.intents[best].name != crate::definition::OUT_OF_SCOPE_INTENT)
        .then(|| def.intents[best].name.clone());

    // A bot of one locale needs no locale classifier: its one class has probability 1.
    let locale_probs: Vec<f32> = if def.locales.len() <= 1 {
        vec![1.0]
    } else {
        bot.locales.predict_utterance(&utterance).into_iter().map(clean).collect()
    };
    let (locale_index, locale_confidence) = locale_probs.iter().enumerate().fold(
        (0, 0.0_f32),
        |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
    );
    let locale = def
        .locales
        .get(locale_index)
        .cloned()
        .unwrap_or_else(|| def.default_locale().to_owned());
    let settings = &bot.domain.settings;
    let locale_is_clear = locale_confidence >= settings.locale_confidence
        && text.split_whitespace().count() >= usize::from(settings.locale_min_words);

    let sentiment_locale = match conversation {
        Some((current, _)) if !locale_is_clear => current,
        _ => locale.as_str(),
    };
    let sentiment = crate::sentiment::score_utterance(&utterance, sentiment_locale);
    let mut entities = match conversation {
        Some((current, at)) => {
            let reply_locale = if locale_is_clear {
                locale.as_str()
            } else {
                current
            };
            bot.domain.entities
                .extract_utterance(
                    &utterance,
                    &ExtractContext { locale: reply_locale, now_ms: Some(at.now_ms), utc_offset_min: at.utc_offset_min },
                )
        }
        None => bot.domain.entities.extract_utterance(&utterance, &ExtractContext::default()),
    };
    if let Some(tagger) = &bot.slots {
        let tag_intent = slot_intent.or_else(|| intent.is_some().then_some(best));
        add_learned(&mut entities, tagger.tag_utterance(&utterance, tag_intent));
    }
    Understanding {
        result: NluResult {
            intent,
            confidence,
            ranking,
            entities,
            locale,
            sentiment,
        },
        intent_probs,
        locale_is_clear,
    }
}

/// The part of `text` the NLU reads: its first [`MAX_NLU_CHARS`] chars.
fn nlu_text(text: &str) -> &str {
    // A char takes at least a byte: a short text needs no counting.
    if text.len() <= MAX_NLU_CHARS {
        return text;
    }
    match text.char_indices().nth(MAX_NLU_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The intent classifier alone on `text` (its first [`MAX_NLU_CHARS`] chars): the
/// probability of every intent in definition order, in [0, 1], and the indices of the best
/// [`RANKING_LEN`], best first.
pub(crate) fn classify(bot: &Bot, text: &str) -> (Vec<f32>, Vec<usize>) {
    classify_utterance(bot, &Utterance::analyze(nlu_text(text), ""))
}

/// As [`classify`], on the message already analysed (and truncated).
fn classify_utterance(bot: &Bot, utterance: &Utterance<'_>) -> (Vec<f32>, Vec<usize>) {
    let mut intent_probs: Vec<f32> = bot.intents.predict_utterance(utterance).into_iter().map(clean).collect();
    intent_probs.resize(bot.domain.definition.intents.len(), 0.0);
    let order = best_first(&intent_probs, RANKING_LEN);
    (intent_probs, order)
}

/// The indices of the `k` largest of `probs`, largest first; ties keep the lower index first,
/// so the result is what a stable descending sort would put first, in one pass over `probs`
/// (the ranking runs on every message, over every intent).
fn best_first(probs: &[f32], k: usize) -> Vec<usize> {
    let mut top: Vec<usize> = Vec::with_capacity(k + 1);
    for (i, p) in probs.iter().enumerate() {
        // Once full, most probabilities are no larger than the last kept: one comparison.
        if top.len() == k && top.last().is_some_and(|&j| probs[j].total_cmp(p).is_ge()) {
            continue;
        }
        let at = top
            .iter()
            .position(|&j| probs[j].total_cmp(p).is_lt())
            .unwrap_or(top.len());
        if at < k {
            top.insert(at, i);
            top.truncate(k);
        }
    }
    top
}

/// Adds the slot tagger's values to the rule-based entities, as entities named after their
/// slot, after them.
///
/// Precedence: a rule-based entity of the same name that overlaps a learned span wins, because
/// its value is normalised (the `product` list turns "hiking boot" into `boots`) and it was
/// written by the owner; the learned span is dropped. Elsewhere the learned value is the covered
/// text as typed ("trekking poles"), so a learned slot reaches values no list names. Entities
/// of other names are never suppressed. Dialogue takes the first entity of a name that a slot
/// accepts, so rule-based values come first.
fn add_learned(entities: &mut Vec<Entity>, spans: Vec<crate::slots::SlotSpan>) {
    let rules = entities.len();
    for span in spans {
        let shadowed = entities[..rules].iter().any(|e| {
            e.entity == span.slot && e.start < span.end && span.start < e.end
        });
        if !shadowed {
            entities.push(Entity {
                entity: span.slot,
                value: span.value.clone(),
                raw: span.value,
                start: span.start,
                end: span.end,
            });
        }
    }
}

/// The turn being assembled.
#[derive(Default)]
struct Out {
    messages: Vec<BotMessage>,
    handoff: bool,
    /// The visitor's message is strongly negative: replies use their `empathetic` variant.
    negative: bool,
}

/// Percent-encodes a value for a URL path or query (RFC 3986 unreserved characters stay).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fills `{name}` placeholders of a URL template with URL-encoded values. `None` when a
/// placeholder has no value or the result is not an allowed URL (the link is then left out).
pub(crate) fn fill_url(template: &str, values: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let value = values.get(after[..close].trim())?;
        out.push_str(&percent_encode(value));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    is_allowed_url(&out).then_some(out)
}

/// The word after an unambiguous introduction ("my name is maria" → `maria`), any case.
fn introduced_name(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    INTRODUCTIONS.iter().find_map(|intro| {
        let at = lower.find(intro)?;
        let before_ok = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let rest = &lower[at + intro.len()..];
        if !before_ok || !rest.starts_with(char::is_whitespace) {
            return None;
        }
        let word: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphabetic() || *c == '\'' || *c == '-')
            .collect();
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
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Bot {
    /// Fluent arguments every message gets: `$bot`, `$name`, contact details, plus `extra`.
    fn args(
        &self,
        state: &ConversationState,
        extra: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut args = BTreeMap::new();
        args.insert("bot".to_owned(), self.domain.definition.name.clone());
        if let Some(name) = &state.profile.name {
            args.insert("name".to_owned(), name.clone());
        }
        if let Some(contact) = &self.domain.definition.contact {
            for (key, value) in [
                ("email", &contact.email),
                ("phone", &contact.phone),
                ("contact_url", &contact.url),
            ] {
                if let Some(v) = value {
                    args.insert(key.to_owned(), v.clone());
                }
            }
        }
        args.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        args
    }

    fn text(&self, state: &ConversationState, id: &str, args: &BTreeMap<String, String>) -> String {
        self.domain.replies.format(&state.profile.locale, id, args)
    }

    fn message(
        &self,
        state: &ConversationState,
        id: &str,
        extra: &BTreeMap<String, String>,
    ) -> BotMessage {
        let args = self.args(state, extra);
        BotMessage {
            id: id.to_owned(),
            text: self.text(state, id, &args),
            quick_replies: Vec::new(),
            links: Vec::new(),
        }
    }

    fn quick_replies(&self, state: &ConversationState, defs: &[QuickReplyDef]) -> Vec<QuickReply> {
        let args = self.args(state, &BTreeMap::new());
        defs.iter()
            .map(|q| QuickReply {
                label: self.text(state, &q.label, &args),
                intent: q.intent.clone(),
            })
            .collect()
    }

    /// Renders a reply; `values` fill both Fluent variables and `{placeholders}` in link URLs.
    fn reply(
        &self,
        state: &mut ConversationState,
        reply: &ReplyDef,
        values: &BTreeMap<String, String>,
        negative: bool,
    ) -> BotMessage {
        let id = if let Some(empathetic) = reply.empathetic.as_ref().filter(|_| negative) {
            empathetic
        } else if reply.variants.is_empty() {
            &reply.message
        } else {
            let pick = state.next_random() % (reply.variants.len() as u64 + 1);
            match pick {
                0 => &reply.message,
                n => &reply.variants[n as usize - 1],
            }
        };
        let args = self.args(state, values);
        let links = reply
            .links
            .iter()
            .filter_map(|l| {
                Some(Link {
                    label: self.text(state, &l.label, &args),
                    url: fill_url(&l.url, &args)?,
                })
            })
            .collect();
        BotMessage {
            id: id.clone(),
            text: self.text(state, id, &args),
            quick_replies: self.quick_replies(state, &reply.quick_replies),
            links,
        }
    }

    /// The contact options as a message with `mailto:`, `tel:` and web links.
    fn contact_message(&self, state: &ConversationState) -> Option<BotMessage> {
        let contact = self.domain.definition.contact.as_ref()?;
        let mut message = self.message(state, &contact.message, &BTreeMap::new());
        if let Some(email) = &contact.email {
            message.links.push(Link {
                label: email.clone(),
                url: format!("mailto:{}", email.trim()),
            });
        }
        if let Some(phone) = &contact.phone {
            let dial: String = phone
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect();
            message.links.push(Link {
                label: phone.clone(),
                url: format!("tel:{dial}"),
            });
        }
        if let Some(url) = &contact.url {
            if is_allowed_url(url) {
                message.links.push(Link {
                    label: url.clone(),
                    url: url.clone(),
                });
            }
        }
        Some(message)
    }

    fn intent_def(&self, name: &str) -> Option<&IntentDef> {
        self.domain.intent(name)
    }

    fn form_def(&self, name: &str) -> Option<&FormDef> {
        self.domain.form(name)
    }

    /// The button that cancels a form: the first titled intent with the `cancel_form` action.
    fn cancel_button(&self, state: &ConversationState) -> Option<QuickReply> {
        let intent = self
            .domain
            .definition
            .intents
            .iter()
            .find(|i| i.action == Some(Action::CancelForm) && i.title.is_some())?;
        let title = intent.title.as_deref()?;
        Some(QuickReply {
            label: self.text(state, title, &self.args(state, &BTreeMap::new())),
            intent: Some(intent.name.clone()),
        })
    }

    /// Asks for the next empty slot, or closes the form with its `done` reply when all are filled.
    fn advance_form(&self, state: &mut ConversationState, form: &FormDef, out: &mut Out) {
        let Some(active) = state.form.as_ref() else {
            return;
        };
        match form
            .slots
            .iter()
            .find(|s| !active.slots.contains_key(&s.name))
        {
            Some(slot) => {
                let mut prompt = self.message(state, &slot.prompt, &active.slots.clone());
                prompt.quick_replies.extend(self.cancel_button(state));
                out.messages.push(prompt);
            }
            None => match &form.confirm {
                Some(confirm) => {
                    let slots = active.slots.clone();
                    if let Some(active) = state.form.as_mut() {
                        active.confirming = true;
                    }
                    let mut question = self.message(state, &confirm.message, &slots);
                    let buttons = [
                        QuickReplyDef {
                            label: confirm.buttons[0].clone(),
                            intent: Some(confirm.yes.clone()),
                        },
                        QuickReplyDef {
                            label: confirm.buttons[1].clone(),
                            intent: Some(confirm.no.clone()),
                        },
                    ];
                    question.quick_replies = self.quick_replies(state, &buttons);
                    out.messages.push(question);
                }
                None => self.finish_form(state, form, out),
            },
        }
    }

    /// Closes the active form with its `done` reply; its slots stay in the context.
    fn finish_form(&self, state: &mut ConversationState, form: &FormDef, out: &mut Out) {
        let Some(active) = state.form.take() else {
            return;
        };
        state.context = Some(Context {
            intent: form.name.clone(),
            slots: active.slots.clone(),
            turns_left: self.domain.settings.context_turns,
        });
        out.messages
            .push(self.reply(state, &form.done, &active.slots, out.negative));
    }

    /// Fills empty slots of the active form from entities that pass the slot's checks, each
    /// entity used at most once. While confirming, filled slots may be corrected too ("make
    /// it an exchange").
    fn fill_slots(&self, state: &mut ConversationState, form: &FormDef, entities: &[Entity]) -> bool {
        let Some(active) = state.form.as_mut() else {
            return false;
        };
        let mut used = vec![false; entities.len()];
        let mut filled = false;
        for slot in &form.slots {
            if active.slots.contains_key(&slot.name) && !active.confirming {
                continue;
            }
            if let Some(i) = (0..entities.len()).find(|&i| {
                !used[i] && entities[i].entity == slot.entity && self.domain.slot_accepts(slot, &entities[i].value)
            }) {
                used[i] = true;
                active
                    .slots
                    .insert(slot.name.clone(), entities[i].value.clone());
                filled = true;
            }
        }
        filled
    }

    /// The first of `entities` that passes the checks of the slot the active form is asking
    /// for (its first empty slot; none while confirming).
    fn asked_slot_value<'e>(
        &self,
        state: &ConversationState,
        form: &FormDef,
        entities: &'e [Entity],
    ) -> Option<&'e Entity> {
        let active = state.form.as_ref().filter(|a| !a.confirming)?;
        let slot = form
            .slots
            .iter()
            .find(|s| !active.slots.contains_key(&s.name))?;
        entities
            .iter()
            .find(|e| e.entity == slot.entity && self.domain.slot_accepts(slot, &e.value))
    }

    /// True when `text` on its own is classified as an intent (not the reserved out-of-scope
    /// one) at or above the bot's threshold.
    fn is_request(&self, text: &str) -> bool {
        let (probs, order) = classify(self, text);
        order.first().is_some_and(|&i| {
            probs[i] >= self.domain.threshold
                && self.domain.definition.intents[i].name != crate::definition::OUT_OF_SCOPE_INTENT
        })
    }

    fn start_form(
        &self,
        state: &mut ConversationState,
        form: &FormDef,
        entities: &[Entity],
        out: &mut Out,
    ) {
        state.form = Some(ActiveForm {
            name: form.name.clone(),
            slots: BTreeMap::new(),
            tries: 0,
            confirming: false,
        });
        self.fill_slots(state, form, entities);
        self.advance_form(state, form, out);
    }

    /// Handles a message while a form is active. Returns false when the message is not for the
    /// form after all (the form is then closed and the message handled as usual).
    #[allow(clippy::too_many_arguments)]
    fn continue_form(
        &self,
        state: &mut ConversationState,
        text: &str,
        intent: Option<&IntentDef>,
        confidence: f32,
        pressed: bool,
        entities: &[Entity],
        out: &mut Out,
    ) -> bool {
        let Some(form) = state
            .form
            .as_ref()
            .and_then(|a| self.form_def(&a.name))
            .cloned()
        else {
            // The definition changed under a stored state: forget the form.
            state.form = None;
            return false;
        };
        // A valid value for the slot being asked for answers it, even when the message reads
        // as cancelling (or asking for a person), unless the words around the value make a
        // request of their own: asked for the reason of a return, "I changed my mind" is the
        // reason; "cancel the return, I changed my mind" still cancels.
        let intent = intent.filter(|i| {
            pressed
                || !matches!(i.action, Some(Action::CancelForm | Action::Handoff))
                || self.asked_slot_value(state, &form, entities)
                    .is_none_or(|value| self.is_request(&without_span(text, value)))
        });
        match intent.and_then(|i| i.action) {
            Some(Action::CancelForm) => {
                state.form = None;
                out.messages
                    .push(self.message(state, &form.cancelled, &BTreeMap::new()));
                return true;
            }
            Some(Action::Handoff) => {
                state.form = None;
                return false;
            }
            None => {}
        }
        let confirming = state.form.as_ref().is_some_and(|a| a.confirming);
        if let (true, Some(confirm), Some(intent)) = (confirming, &form.confirm, intent) {
            if intent.name == confirm.yes {
                self.finish_form(state, &form, out);
                return true;
            }
            if intent.name == confirm.no {
                state.form = None;
                out.messages
                    .push(self.message(state, &form.cancelled, &BTreeMap::new()));
                return true;
            }
        }
        if pressed {
            // A button the visitor pressed is an explicit choice of something else.
            state.form = None;
            return false;
        }
        if self.fill_slots(state, &form, entities) {
            if let Some(active) = state.form.as_mut() {
                active.tries = 0;
            }
            self.advance_form(state, &form, out);
            return true;
        }
        // A confident side question ("what are your opening hours?") is answered, then the
        // slot is asked for again without counting a try; so is a message phrased as a
        // question whose intent clears the threshold. Intents that start a form of their own
        // are not side questions: the visitor is most likely answering badly.
        let settings = &self.domain.settings;
        let question = asks_a_question(text, settings.question_min_words) && confidence >= settings.threshold;
        let side_question = intent.filter(|i| {
            (confidence >= settings.side_question_confidence || question)
                && i.form.is_none()
                && i.reply.is_some()
                && i.remember_name
                    .as_ref()
                    .is_none_or(|e| entities.iter().any(|x| &x.entity == e))
        });
        // A value of the slot's entity that failed its checks is an answer, not a side question.
        let attempted = state
            .form
            .as_ref()
            .and_then(|a| form.slots.iter().find(|s| !a.slots.contains_key(&s.name)))
            .is_some_and(|slot| entities.iter().any(|e| e.entity == slot.entity));
        if let Some(side) = side_question.filter(|_| !attempted) {
            self.run_intent(state, side, entities, text, out);
            self.advance_form(state, &form, out);
            return true;
        }
        let Some(active) = state.form.as_mut() else {
            return false;
        };
        let Some(slot) = form
            .slots
            .iter()
            .find(|s| !active.slots.contains_key(&s.name))
        else {
            // Confirming and the answer is neither yes nor no: ask again.
            self.advance_form(state, &form, out);
            return true;
        };
        active.tries = active.tries.saturating_add(1);
        if active.tries >= slot.max_tries {
            state.form = None;
            let id = form.give_up.as_deref().unwrap_or(&form.cancelled);
            let mut message = self.message(state, id, &BTreeMap::new());
            if let Some(contact) = self.contact_message(state) {
                message.links = contact.links;
            }
            out.messages.push(message);
        } else {
            let slots = active.slots.clone();
            out.messages
                .push(self.message(state, &slot.invalid, &slots));
            self.advance_form(state, &form, out);
        }
        true
    }

    /// The context's intent when `text` is a follow-up to it: short, and carrying an entity
    /// the intent's reply uses.
    fn follow_up(
        &self,
        state: &ConversationState,
        text: &str,
        entities: &[Entity],
    ) -> Option<&IntentDef> {
        let context = state.context.as_ref()?;
        let intent = self.intent_def(&context.intent)?;
        let uses = &intent.reply.as_ref()?.uses;
        let short = text.split_whitespace().count() <= usize::from(self.domain.settings.follow_up_max_words);
        (short && entities.iter().any(|e| uses.contains(&e.entity))).then_some(intent)
    }

    /// Ages the remembered mentions by one visitor turn (forgetting expired ones), then
    /// remembers this message's values of entities that some reply `uses`, the first of each
    /// name (rule-based before learned), for the definition's `memory_turns`.
    fn remember_mentions(&self, state: &mut ConversationState, entities: &[Entity]) {
        state.mentions.retain(|_, m| m.turns_left > 0);
        for m in state.mentions.values_mut() {
            m.turns_left -= 1;
        }
        let turns = self.domain.settings.memory_turns;
        let mut seen: Vec<&str> = Vec::new();
        for e in entities {
            if seen.contains(&e.entity.as_str()) {
                continue;
            }
            seen.push(&e.entity);
            let used = self
                .domain
                .definition
                .intents
                .iter()
                .filter_map(|i| i.reply.as_ref())
                .any(|r| r.uses.contains(&e.entity));
            if used {
                state.mentions.insert(
                    e.entity.clone(),
                    Mention {
                        value: e.value.clone(),
                        turns_left: turns,
                    },
                );
            }
        }
    }

    /// The first intent whose form asks first for an owner-defined entity found in the message.
    /// Built-in entities (a bare number, an e-mail) are too common to start a form on their own.
    fn entity_led_intent(&self, entities: &[Entity]) -> Option<&IntentDef> {
        self.domain.definition.intents.iter().find(|intent| {
            intent
                .form
                .as_deref()
                .and_then(|f| self.form_def(f))
                .and_then(|f| f.slots.first())
                .is_some_and(|slot| {
                    !BUILTIN_ENTITIES.contains(&slot.entity.as_str())
                        && entities.iter().any(|e| e.entity == slot.entity)
                })
        })
    }

    /// Runs a recognised intent: name memory, action, form or reply.
    fn run_intent(
        &self,
        state: &mut ConversationState,
        intent: &IntentDef,
        entities: &[Entity],
        text: &str,
        out: &mut Out,
    ) {
        state.fallbacks_in_a_row = 0;
        if let Some(entity) = &intent.remember_name {
            let name = entities
                .iter()
                .find(|e| &e.entity == entity)
                .map(|e| e.value.clone())
                .or_else(|| introduced_name(text));
            if let Some(name) = name.map(|n| capitalize_name(&n)).filter(|n| !n.is_empty()) {
                state.profile.name = Some(name);
            }
        }
        // The first entity of a name wins. Inserted one by one: `collect` into a BTreeMap would
        // compile one more copy of std's sort into the wasm.
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        for e in entities.iter().rev() {
            values.insert(e.entity.clone(), e.value.clone());
        }
        // Entities the reply talks about: from the message, else the one the visitor mentioned
        // last in any recent message ("is it waterproof?" about the tent of a complaint two
        // turns ago), else from the context, else `none`; then remembered.
        if let Some(reply) = intent.reply.as_ref().filter(|r| !r.uses.is_empty()) {
            let mut remembered = state
                .context
                .as_ref()
                .map(|c| c.slots.clone())
                .unwrap_or_default();
            for entity in &reply.uses {
                let value = values
                    .get(entity)
                    .or_else(|| state.mentions.get(entity).map(|m| &m.value))
                    .or_else(|| remembered.get(entity))
                    .cloned()
                    .unwrap_or_else(|| UNKNOWN.to_owned());
                if value != UNKNOWN {
                    remembered.insert(entity.clone(), value.clone());
                }
                values.insert(entity.clone(), value);
            }
            state.context = Some(Context {
                intent: intent.name.clone(),
                slots: remembered,
                turns_left: reply.context_turns.unwrap_or(self.domain.settings.context_turns),
            });
        }
        if intent.action == Some(Action::Handoff) {
            if let Some(message) = self.contact_message(state) {
                out.messages.push(message);
            }
            out.handoff = true;
        }
        if let Some(reply) = &intent.reply {
            out.messages
                .push(self.reply(state, reply, &values, out.negative));
        }
        if let Some(form) = intent.form.as_deref().and_then(|f| self.form_def(f)) {
            self.start_form(state, form, entities, out);
        }
    }

    /// The fallback with "did you mean" buttons for the best titled intents; after two
    /// fallbacks in a row, or for a strongly negative message, a way to a person is offered too.
    fn fallback(&self, state: &mut ConversationState, intent_probs: &[f32], out: &mut Out) {
        state.fallbacks_in_a_row = state.fallbacks_in_a_row.saturating_add(1);
        let def = &self.domain.definition;
        let mut order: Vec<usize> = (0..def.intents.len()).collect();
        let prob = |i: usize| intent_probs.get(i).copied().unwrap_or(0.0);
        crate::sort::sort_by(&mut order, |&a, &b| prob(b).total_cmp(&prob(a)));
        let suggestable = |i: &usize| {
            def.intents[*i].title.is_some()
                && def.intents[*i].action != Some(Action::CancelForm)
                && def.intents[*i].name != crate::definition::OUT_OF_SCOPE_INTENT
        };
        let mut chosen: Vec<usize> = order
            .into_iter()
            .filter(suggestable)
            .take(def.fallback.suggestions)
            .collect();
        // After two misses in a row, or when the visitor is upset, a person is one press away.
        if state.fallbacks_in_a_row >= u32::from(self.domain.settings.fallbacks_before_offer) || out.negative {
            if let Some(h) = (0..def.intents.len())
                .find(|&i| def.intents[i].action == Some(Action::Handoff) && suggestable(&i))
            {
                if !chosen.contains(&h) {
                    chosen.push(h);
                }
            }
        }
        let buttons: Vec<QuickReplyDef> = chosen
            .iter()
            .filter_map(|&i| {
                let intent = &def.intents[i];
                Some(QuickReplyDef {
                    label: intent.title.clone()?,
                    intent: Some(intent.name.clone()),
                })
            })
            .collect();
        let mut message = self.message(state, &def.fallback.message, &BTreeMap::new());
        message.quick_replies = self.quick_replies(state, &buttons);
        out.messages.push(message);
    }

    /// Counts a new visit when the visitor was away longer than [`NEW_VISIT_AFTER_MS`].
    /// Returns true when a new visit starts.
    fn touch(state: &mut ConversationState, now_ms: u64) -> bool {
        let new_visit = state.profile.visits == 0
            || now_ms.saturating_sub(state.profile.last_seen_ms) > NEW_VISIT_AFTER_MS;
        if new_visit {
            state.profile.visits = state.profile.visits.saturating_add(1);
        }
        state.profile.last_seen_ms = state.profile.last_seen_ms.max(now_ms);
        new_visit
    }

    fn record(state: &mut ConversationState, messages: &[BotMessage], now_ms: u64) {
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
            });
        }
    }

    pub(crate) fn begin_visit_impl(
        &self,
        state: &mut ConversationState,
        now_ms: u64,
    ) -> Vec<BotMessage> {
        let new_visit = Bot::touch(state, now_ms);
        if !new_visit && !state.transcript.is_empty() {
            return Vec::new();
        }
        let greeting = &self.domain.definition.greeting;
        let id = if state.profile.name.is_some() && state.profile.visits > 1 {
            &greeting.returning
        } else {
            &greeting.message
        };
        let mut message = self.message(state, id, &BTreeMap::new());
        message.quick_replies = self.quick_replies(state, &greeting.quick_replies);
        let mut out = Out {
            messages: vec![message],
            handoff: false,
            negative: false,
        };
        // A visitor who left in the middle of a form is asked again where they stopped.
        if let Some(form) = state
            .form
            .as_ref()
            .and_then(|a| self.form_def(&a.name))
            .cloned()
        {
            self.advance_form(state, &form, &mut out);
        }
        Bot::record(state, &out.messages, now_ms);
        out.messages
    }

    pub(crate) fn respond_impl(
        &self,
        state: &mut ConversationState,
        input: Input,
        at: TurnContext,
    ) -> Turn {
        let now_ms = at.now_ms;
        Bot::touch(state, now_ms);
        let (text, pressed) = match input {
            Input::Text { text } => (text, None),
            Input::QuickReply {
                label,
                intent: Some(intent),
            } if self.intent_def(&intent).is_some() => (label, Some(intent)),
            Input::QuickReply { label, .. } => (label, None),
        };
        if text.trim().is_empty() && pressed.is_none() {
            return Turn {
                messages: Vec::new(),
                nlu: None,
                intent: None,
                handoff: false,
            };
        }

        // Inside a form the tagger looks for the slots of the intent that started it.
        let form_intent = state.form.as_ref().and_then(|a| {
            self.domain.definition
                .intents
                .iter()
                .position(|i| i.form.as_deref() == Some(a.name.as_str()))
        });
        let understanding = pressed.is_none().then(|| {
            understand(
                self,
                &text,
                Some((&state.profile.locale, at)),
                form_intent,
            )
        });
        if let Some(u) = understanding.as_ref().filter(|u| u.locale_is_clear) {
            state.profile.locale = u.result.locale.clone();
        }
        let (intent_name, confidence) = match (&pressed, &understanding) {
            (Some(name), _) => (Some(name.clone()), 1.0),
            (None, Some(u)) => (u.result.intent.clone(), u.result.confidence),
            (None, None) => (None, 0.0),
        };
        let intent = intent_name.as_deref().and_then(|n| self.intent_def(n));
        let entities: &[Entity] = understanding
            .as_ref()
            .map(|u| u.result.entities.as_slice())
            .unwrap_or(&[]);
        let mut out = Out::default();
        // The context lasts a number of visitor turns, this one included.
        state.context = state
            .context
            .take()
            .filter(|c| c.turns_left > 0)
            .map(|mut c| {
                c.turns_left -= 1;
                c
            });
        self.remember_mentions(state, entities);
        let sentiment = understanding.as_ref().map(|u| u.result.sentiment);
        if sentiment.is_some_and(|s| s <= crate::sentiment::NEGATIVE) {
            out.negative = true;
            state.negatives = state.negatives.saturating_add(1);
        }
        let mut acted_on = intent_name.clone();
        let handled_by_form = state.form.is_some()
            && self.continue_form(
                state,
                &text,
                intent,
                confidence,
                pressed.is_some(),
                entities,
                &mut out,
            );
        if handled_by_form {
            state.fallbacks_in_a_row = 0;
        } else {
            // A name-remembering intent without the name in the message was not understood.
            let usable = intent.filter(|i| {
                i.remember_name.as_ref().is_none_or(|e| {
                    entities.iter().any(|x| &x.entity == e) || introduced_name(&text).is_some()
                })
            });
            // A short message carrying an entity the context's intent talks about, and no
            // confident intent of its own, is a follow-up: "and to Mexico?" after shipping to
            // Canada answers the shipping question again for Mexico.
            // An intent of its own that talks about the same entity keeps the message ("can
            // you send stuff to Germany?" after a delivery-time question is about shipping
            // abroad).
            let own_use = |i: &IntentDef| {
                i.reply.as_ref().is_some_and(|r| {
                    r.uses
                        .iter()
                        .any(|u| entities.iter().any(|e| &e.entity == u))
                })
            };
            let usable = match (pressed.is_none(), self.follow_up(state, &text, entities)) {
                (true, Some(previous))
                    if usable.is_none_or(|u| confidence < self.domain.settings.follow_up_confidence && !own_use(u)) =>
                {
                    Some(previous)
                }
                _ => usable,
            };
            // Below the threshold, a message carrying an owner-defined entity that a form asks
            // for first ("CU-123456" on its own) starts that form: the entity says more than
            // the classifier could.
            let usable = usable.or_else(|| self.entity_led_intent(entities));
            match usable {
                Some(intent) => {
                    acted_on = Some(intent.name.clone());
                    self.run_intent(state, intent, entities, &text, &mut out)
                }
                None => {
                    acted_on = None;
                    let probs = understanding
                        .as_ref()
                        .map(|u| u.intent_probs.as_slice())
                        .unwrap_or(&[]);
                    self.fallback(state, probs, &mut out);
                }
            }
        }
        // A second strongly negative message: offer a person, unless one was just asked for
        // or a button of this turn already offers one. A button under an earlier reply does not
        // count: a visitor still upset after it is offered a person in so many words.
        let handoff_offered = out.handoff
            || out.messages.iter().flat_map(|m| &m.quick_replies).any(|q| {
                q.intent
                    .as_deref()
                    .and_then(|i| self.intent_def(i))
                    .is_some_and(|i| i.action == Some(Action::Handoff))
            });
        let enough_negatives = u32::from(self.domain.settings.negatives_before_offer);
        if out.handoff || (handoff_offered && state.negatives >= enough_negatives) {
            state.negatives = 0;
        }
        if state.negatives >= enough_negatives {
            if let Some(offer) = self
                .domain
                .definition
                .contact
                .as_ref()
                .and_then(|c| c.offer.clone())
            {
                let mut message = self.message(state, &offer, &BTreeMap::new());
                let handoff = self
                    .domain
                    .definition
                    .intents
                    .iter()
                    .find(|i| i.action == Some(Action::Handoff) && i.title.is_some());
                if let Some(h) = handoff {
                    let button = QuickReplyDef {
                        label: h.title.clone().unwrap_or_default(),
                        intent: Some(h.name.clone()),
                    };
                    message.quick_replies = self.quick_replies(state, &[button]);
                }
                out.messages.push(message);
                state.negatives = 0;
            }
        }
        // The visitor's entry carries the intent acted on, so a stored transcript tells what
        // happened (the NLU's own guess stays in the turn's `nlu`).
        state.push(TranscriptEntry {
            from: Speaker::Visitor,
            text,
            time_ms: now_ms,
            intent: acted_on.clone(),
            confidence: Some(confidence),
            sentiment,
            quick_replies: Vec::new(),
            links: Vec::new(),
        });
        Bot::record(state, &out.messages, now_ms);
        Turn {
            messages: out.messages,
            nlu: understanding.map(|u| u.result),
            intent: acted_on,
            handoff: out.handoff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_first_is_the_head_of_a_stable_descending_sort() {
        let cases: [&[f32]; 5] = [
            &[],
            &[0.5],
            &[0.1, 0.7, 0.1, 0.7, 0.05, 0.3, 0.7, 0.0],
            &[0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
            &[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
        ];
        for probs in cases {
            let mut sorted: Vec<usize> = (0..probs.len()).collect();
            sorted.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
            for k in 0..=probs.len() + 1 {
                let expected: Vec<usize> = sorted.iter().copied().take(k).collect();
                assert_eq!(best_first(probs, k), expected, "{probs:?}, k = {k}");
            }
        }
    }

    #[test]
    fn classify_ranks_as_understand_does() {
        let bot = Bot::from_json(include_str!("../../tests/fixtures/bots/mini.json")).expect("mini bot trains");
        for text in ["where is my order?", "hola", "", &"refund ".repeat(400)] {
            assert_eq!(bot.classify(text), bot.understand(text).ranking, "{text:?}");
        }
        assert!(!bot.classify("where is my order?").is_empty());
    }

    #[test]
    fn urls_are_filled_and_encoded() {
        let values: BTreeMap<String, String> = [("order".to_owned(), "AB 12/3".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(
            fill_url("https://shop.example/track/{order}?x=1", &values).as_deref(),
            Some("https://shop.example/track/AB%2012%2F3?x=1")
        );
        assert_eq!(fill_url("https://shop.example/{missing}", &values), None);
        assert_eq!(
            fill_url("{order}", &values),
            None,
            "a filled URL must still be http(s)/mailto/tel"
        );
    }

    #[test]
    fn names_are_capitalised() {
        assert_eq!(capitalize_name("ana  maría"), "Ana María");
        assert_eq!(capitalize_name("JOHN"), "JOHN");
    }
}
