//! The third step of a turn: a [`Decision`] said in the visitor's locale, as [`BotMessage`]s
//! formatted by Fluent ([`crate::replies`]), with their buttons and links.
//!
//! Rendering reads the state after [`super::apply`] (the locale, the visitor's name) and
//! changes one thing in it: the seeded generator that picks a reply's variant, drawn in the
//! order the messages are said, so a replay is identical.

use std::collections::BTreeMap;

use crate::definition::{Action, FormDef, QuickReplyDef, ReplyDef, FACT_VARIABLE_PREFIX, SITE_ORDER_STATUS};
use crate::dialogue::decide::{Act, Answer, Decision, FormNext, FormStep, Values, UNKNOWN};
use crate::dialogue::{is_allowed_url, Bot, BotMessage, Link, QuickReply};
use crate::state::ConversationState;
use crate::replies::fill_placeholders;

/// What the first message of `decision` becomes when the caller shows products for its
/// recommendation: the recommend intent's `with_products` message, with the answer's values,
/// quick replies and links ([`crate::Turn::with_products`]). `None` for any other decision.
pub(crate) fn with_products(bot: &Bot, state: &ConversationState, decision: &Decision<'_>) -> Option<BotMessage> {
    let Decision::Act { act: Act::Answer(answer), .. } = decision else { return None };
    if answer.intent.action != Some(Action::Recommend) {
        return None;
    }
    let reply = answer.intent.reply.as_ref()?;
    Some(bot.reply_as(state, reply, reply.with_products.as_ref()?, &answer.values))
}

/// The messages of `decision`, in order; `negative` picks replies' `empathetic` variants.
pub(crate) fn render(bot: &Bot, state: &mut ConversationState, decision: &Decision<'_>, negative: bool) -> Vec<BotMessage> {
    let mut messages = Vec::new();
    match decision {
        Decision::Form { form, step } => bot.form_step(state, form, step, negative, &mut messages),
        Decision::Act { act: Act::Answer(answer), .. } => bot.answer(state, answer, negative, &mut messages),
        Decision::Act { act: Act::Fallback { suggestions }, .. } => messages.push(bot.fallback(state, suggestions)),
    }
    messages
}

impl Bot {
    fn form_step(
        &self,
        state: &mut ConversationState,
        form: &FormDef,
        step: &FormStep<'_>,
        negative: bool,
        out: &mut Vec<BotMessage>,
    ) {
        match step {
            FormStep::Fill { slots, next } => self.form_next(state, form, next, slots, negative, out),
            FormStep::Correct { slots } => self.form_next(state, form, &FormNext::Confirm, slots, negative, out),
            FormStep::Confirmed { slots } => self.form_next(state, form, &FormNext::Done, slots, negative, out),
            FormStep::Cancel => out.push(self.message(state, &form.cancelled, &BTreeMap::new())),
            FormStep::SideQuestion { answer, slots, next } => {
                self.answer(state, answer, negative, out);
                self.form_next(state, form, next, slots, negative, out);
            }
            FormStep::Unclear { suggestions, slots, next } => {
                out.push(self.fallback(state, suggestions));
                self.form_next(state, form, next, slots, negative, out);
            }
            FormStep::Reprompt { slot, tries, slots } => {
                out.push(self.message(state, &slot.invalid, slots));
                self.form_next(state, form, &FormNext::Ask { slot, tries: *tries }, slots, negative, out);
            }
            FormStep::ConfirmAgain { slots } => self.form_next(state, form, &FormNext::Confirm, slots, negative, out),
            FormStep::GiveUp => {
                let id = form.give_up.as_deref().unwrap_or(&form.cancelled);
                let mut message = self.message(state, id, &BTreeMap::new());
                if let Some(contact) = self.contact_message(state) {
                    message.links = contact.links;
                }
                out.push(message);
            }
        }
    }

    /// The prompt of the slot asked next (with the cancel button), the confirmation question
    /// (with its yes and no buttons), or the form's `done` reply; `slots` fill their variables.
    pub(crate) fn form_next(
        &self,
        state: &mut ConversationState,
        form: &FormDef,
        next: &FormNext<'_>,
        slots: &Values,
        negative: bool,
        out: &mut Vec<BotMessage>,
    ) {
        match next {
            FormNext::Ask { slot, .. } => {
                let mut prompt = self.message(state, &slot.prompt, slots);
                prompt.quick_replies = self.quick_replies(state, &slot.quick_replies);
                prompt.quick_replies.extend(self.cancel_button(state));
                out.push(prompt);
            }
            FormNext::Confirm => {
                let Some(confirm) = &form.confirm else { return };
                let mut question = self.message(state, &confirm.message, slots);
                let buttons = [
                    QuickReplyDef { label: confirm.buttons[0].clone(), intent: Some(confirm.yes.clone()) },
                    QuickReplyDef { label: confirm.buttons[1].clone(), intent: Some(confirm.no.clone()) },
                ];
                question.quick_replies = self.quick_replies(state, &buttons);
                out.push(question);
            }
            FormNext::Done if form.slots.iter().any(|s| s.from_site.is_some()) && !slots.contains_key(SITE_ORDER_STATUS) => {
                // The order's status is known only when the site gave it: `none` otherwise.
                let mut slots = slots.clone();
                slots.insert(SITE_ORDER_STATUS.to_owned(), UNKNOWN.to_owned());
                out.push(self.reply(state, &form.done, &slots, negative))
            }
            FormNext::Done => out.push(self.reply(state, &form.done, slots, negative)),
        }
    }

    /// A recognised intent: the contact options for a handoff, its reply, the form it starts.
    fn answer(&self, state: &mut ConversationState, answer: &Answer<'_>, negative: bool, out: &mut Vec<BotMessage>) {
        if answer.intent.action == Some(Action::Handoff) {
            out.extend(self.contact_message(state));
        }
        if let Some(reply) = &answer.intent.reply {
            out.push(self.reply(state, reply, &answer.values, negative));
        }
        if let Some(start) = &answer.form {
            self.form_next(state, start.form, &start.next, &start.slots, negative, out);
        }
    }

    /// The fallback message with a "did you mean" button per suggested intent.
    fn fallback(&self, state: &ConversationState, suggestions: &[usize]) -> BotMessage {
        let def = &self.domain.definition;
        let buttons: Vec<QuickReplyDef> = suggestions
            .iter()
            .filter_map(|&i| {
                let intent = &def.intents[i];
                Some(QuickReplyDef { label: intent.title.clone()?, intent: Some(intent.name.clone()) })
            })
            .collect();
        let mut message = self.message(state, &def.fallback.message, &BTreeMap::new());
        message.quick_replies = self.quick_replies(state, &buttons);
        message
    }

    /// The contact's `offer` of a person, with a button for the first titled handoff intent.
    pub(crate) fn person_offer(&self, state: &ConversationState) -> Option<BotMessage> {
        let def = &self.domain.definition;
        let offer = def.contact.as_ref()?.offer.as_ref()?;
        let mut message = self.message(state, offer, &BTreeMap::new());
        if let Some(h) = def.intents.iter().find(|i| i.action == Some(Action::Handoff) && i.title.is_some()) {
            let button = QuickReplyDef { label: h.title.clone().unwrap_or_default(), intent: Some(h.name.clone()) };
            message.quick_replies = self.quick_replies(state, &[button]);
        }
        Some(message)
    }

    /// The greeting of a new visit: for a returning visitor, the message of their newest open
    /// topic that `greeting.topics` names (with the topic's values), else the returning one
    /// for a visitor known by name, else the first-visit one.
    pub(crate) fn greeting(&self, state: &ConversationState) -> BotMessage {
        let greeting = &self.domain.definition.greeting;
        let returning = state.profile.visits > 1;
        let topic = state
            .profile
            .topics
            .iter()
            .rev()
            .filter(|_| returning)
            .find_map(|t| Some((greeting.topics.get(&t.kind)?, &t.values)));
        let mut message = match topic {
            Some((id, values)) => self.message(state, id, values),
            None => {
                let id = if state.profile.name.is_some() && returning { &greeting.returning } else { &greeting.message };
                self.message(state, id, &BTreeMap::new())
            }
        };
        message.quick_replies = self.quick_replies(state, &greeting.quick_replies);
        message
    }

    /// Fluent arguments every message gets: `$bot`, `$name` (when known) and `$name_known`
    /// (`yes` or `no`, for a select that greets by name only when it can), contact details,
    /// the definition's facts in the visitor's locale (`$fact_<name>`), plus `extra`.
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
        args.insert("name_known".to_owned(), if state.profile.name.is_some() { "yes" } else { "no" }.to_owned());
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
        let definition = &self.domain.definition;
        for (name, value) in &definition.facts {
            if let Some(text) = value.get(&state.profile.locale, definition.default_locale()) {
                args.insert(format!("{FACT_VARIABLE_PREFIX}{name}"), text.to_owned());
            }
        }
        args.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        args
    }

    fn text(&self, state: &ConversationState, id: &str, args: &BTreeMap<String, String>) -> String {
        self.domain.replies.format(&state.profile.locale, id, args)
    }

    pub(crate) fn message(
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

    pub(crate) fn quick_replies(&self, state: &ConversationState, defs: &[QuickReplyDef]) -> Vec<QuickReply> {
        let args = self.args(state, &BTreeMap::new());
        defs.iter()
            .map(|q| QuickReply {
                label: self.text(state, &q.label, &args),
                intent: q.intent.clone(),
                locale: None,
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
        self.reply_as(state, reply, id, values)
    }

    /// `reply` said with message `id` (its `message`, a variant, `empathetic` or
    /// `with_products`), its links and quick replies; `values` as in [`Bot::reply`].
    fn reply_as(&self, state: &ConversationState, reply: &ReplyDef, id: &str, values: &BTreeMap<String, String>) -> BotMessage {
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
            id: id.to_owned(),
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
            locale: None,
        })
    }
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
    fill_placeholders(template, values, percent_encode).filter(|url| is_allowed_url(url))
}


#[cfg(test)]
mod tests {
    use super::*;

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
}
