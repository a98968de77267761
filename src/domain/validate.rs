//! Consistency checks of a parsed bot definition, each problem reported with its JSON path.

use std::collections::{BTreeMap, BTreeSet};

use crate::definition::{
    Action, BotDefinition, DialogueSettingsDef, EntityDef, FactValue, Problem, QuickReplyDef, ReplyDef, DEFINITION_FORMAT,
    FACT_VARIABLE_PREFIX,
};

/// Built-in entity names, always available to slots (the list lives with the extractors).
pub(crate) use crate::entities::BUILTIN_ENTITIES;

struct Checker<'a> {
    def: &'a BotDefinition,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { path: path.into(), message: message.into() });
    }

    fn message_id(&mut self, path: &str, id: &str) {
        let default = self.def.default_locale();
        match self.def.messages.get(default) {
            Some(messages) if messages.contains_key(id) => {}
            _ => self.problem(path, format!("message id `{id}` is not defined in messages.{default}")),
        }
    }

    /// The `dialogue` object: each field in its range, and `memory_turns` not also set at the
    /// top level (format 1's spelling).
    fn dialogue(&mut self, dialogue: &DialogueSettingsDef) {
        for (name, value, least, most) in dialogue.counts() {
            if value.is_some_and(|v| v < least || v > most) {
                self.problem(format!("dialogue.{name}"), format!("must be in [{least}, {most}]"));
            }
        }
        for (name, value) in dialogue.confidences() {
            if value.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
                self.problem(format!("dialogue.{name}"), "must be in [0, 1]");
            }
        }
        if dialogue.new_visit_after_min.is_some_and(|m| !(1..=10_080).contains(&m)) {
            self.problem("dialogue.new_visit_after_min", "must be in [1, 10080]");
        }
        if dialogue.memory_turns.is_some() && self.def.memory_turns.is_some() {
            self.problem("dialogue.memory_turns", "is also set as the top-level `memory_turns`; keep one");
        }
    }

    fn reply(&mut self, path: &str, reply: &ReplyDef) {
        self.message_id(&format!("{path}.message"), &reply.message);
        if let Some(id) = &reply.empathetic {
            self.message_id(&format!("{path}.empathetic"), id);
        }
        if let Some(id) = &reply.with_products {
            self.message_id(&format!("{path}.with_products"), id);
        }
        if reply.context_turns == Some(0) {
            self.problem(format!("{path}.context_turns"), "must be at least 1");
        }
        for (i, variant) in reply.variants.iter().enumerate() {
            self.message_id(&format!("{path}.variants[{i}]"), variant);
        }
        for (i, q) in reply.quick_replies.iter().enumerate() {
            self.quick_reply(&format!("{path}.quick_replies[{i}]"), q);
        }
        for (i, link) in reply.links.iter().enumerate() {
            let p = format!("{path}.links[{i}]");
            self.message_id(&format!("{p}.label"), &link.label);
            if !crate::replies::is_allowed_url(&link.url) {
                self.problem(format!("{p}.url"), "only http, https, mailto and tel URLs are allowed");
            }
        }
    }

    fn quick_reply(&mut self, path: &str, q: &QuickReplyDef) {
        self.message_id(&format!("{path}.label"), &q.label);
        if let Some(intent) = &q.intent {
            if self.def.intent_index(intent).is_none() {
                self.problem(format!("{path}.intent"), format!("no intent named `{intent}`"));
            }
        }
    }
}

/// Who says message `id`: "intent `returns`", "form `return`"…, for a problem in that message.
fn users_of(def: &BotDefinition, id: &str) -> Vec<String> {
    let said_by = |r: &ReplyDef| r.message == id || r.variants.iter().any(|v| v == id) || r.empathetic.as_deref() == Some(id) || r.with_products.as_deref() == Some(id);
    let intents = def
        .intents
        .iter()
        .filter(|i| i.reply.as_ref().is_some_and(said_by) || i.title.as_deref() == Some(id))
        .map(|i| format!("intent `{}`", i.name));
    let forms = def
        .forms
        .iter()
        .filter(|f| {
            said_by(&f.done)
                || f.cancelled == id
                || f.give_up.as_deref() == Some(id)
                || f.confirm.as_ref().is_some_and(|c| c.message == id)
                || f.slots.iter().any(|s| s.prompt == id || s.invalid == id)
        })
        .map(|f| format!("form `{}`", f.name));
    intents.chain(forms).collect()
}

/// The `facts`: names, locales, values, and every `$fact_<name>` a message reads naming one.
fn facts(c: &mut Checker<'_>) {
    let def = c.def;
    for (name, value) in &def.facts {
        let path = format!("facts.{name}");
        if !is_identifier(name, '_') {
            c.problem(path.clone(), "a fact's name must use only a-z, 0-9 and _");
        }
        let texts: Vec<&String> = match value {
            FactValue::Same(text) => vec![text],
            FactValue::PerLocale(map) => {
                for locale in map.keys().filter(|l| !def.locales.contains(l)) {
                    c.problem(format!("{path}.{locale}"), "locale is not listed in `locales`");
                }
                for locale in def.locales.iter().filter(|l| !map.contains_key(*l)) {
                    c.problem(path.clone(), format!("no value for locale `{locale}`: give every locale, or one text for all"));
                }
                map.values().collect()
            }
        };
        if texts.iter().any(|t| t.trim().is_empty()) {
            c.problem(path, "empty value");
        }
    }
    for (locale, messages) in &def.messages {
        for (id, pattern) in messages {
            for variable in crate::replies::variables(pattern) {
                let Some(fact) = variable.strip_prefix(FACT_VARIABLE_PREFIX) else { continue };
                if def.facts.contains_key(fact) {
                    continue;
                }
                let users = users_of(def, id);
                let said_by = if users.is_empty() { String::new() } else { format!(", said by {}", users.join(", ")) };
                c.problem(
                    format!("messages.{locale}.{id}"),
                    format!("`${variable}` reads the fact `{fact}`, which `facts` does not define (message `{id}` in {locale}{said_by})"),
                );
            }
        }
    }
}

fn is_identifier(s: &str, extra: char) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == extra)
}

pub(super) fn run(def: &BotDefinition) -> Vec<Problem> {
    let mut c = Checker { def, problems: Vec::new() };
    if def.format != DEFINITION_FORMAT {
        c.problem("format", format!("must be {DEFINITION_FORMAT}"));
    }
    if !is_identifier(&def.id, '-') {
        c.problem("id", "must be non-empty and use only a-z, 0-9 and -");
    }
    if def.name.trim().is_empty() {
        c.problem("name", "must not be empty");
    }
    if def.locales.is_empty() {
        c.problem("locales", "list at least one locale");
    }
    for (i, locale) in def.locales.iter().enumerate() {
        if locale.parse::<unic_langid::LanguageIdentifier>().is_err() {
            c.problem(format!("locales[{i}]"), format!("`{locale}` is not a BCP 47 language tag"));
        }
        if !def.messages.contains_key(locale) {
            c.problem("messages", format!("no messages for locale `{locale}`"));
        }
    }
    for locale in def.messages.keys() {
        if !def.locales.contains(locale) {
            c.problem(format!("messages.{locale}"), "locale is not listed in `locales`");
        }
    }
    if def.memory_turns == Some(0) {
        c.problem("memory_turns", "must be at least 1");
    }
    if let Some(dialogue) = &def.dialogue {
        c.dialogue(dialogue);
    }
    if let Some(name) = &def.word_vectors {
        if crate::definition::word_vector_table_hash(name).is_none() {
            let known: Vec<&str> = crate::definition::WORD_VECTOR_TABLES.iter().map(|(n, _, _)| *n).collect();
            c.problem("word_vectors", format!("unknown word-vector table `{name}`; known: {}", known.join(", ")));
        }
    }
    if let Some(t) = def.threshold {
        if !(0.0..=1.0).contains(&t) {
            c.problem("threshold", "must be between 0 and 1");
        }
    }

    // Name sets hold `String`s, not `&str`s: the slot tagger already compiles BTreeSet<String>
    // into the wasm, and a second key type would add its own copy of the B-tree code.
    let mut learned: BTreeSet<String> = BTreeSet::new();
    let mut entity_names: BTreeSet<String> = BTreeSet::new();
    for &name in BUILTIN_ENTITIES {
        entity_names.insert(name.to_owned());
    }
    for (i, e) in def.entities.iter().enumerate() {
        let path = format!("entities[{i}]");
        if !is_identifier(e.name(), '_') {
            c.problem(format!("{path}.name"), "must use only a-z, 0-9 and _");
        }
        if !entity_names.insert(e.name().to_owned()) {
            c.problem(format!("{path}.name"), format!("entity `{}` is defined twice (or shadows a built-in)", e.name()));
        }
        match e {
            EntityDef::Pattern { pattern, group, value, .. } => match regex_lite::Regex::new(pattern) {
                Ok(re) if *group >= re.captures_len() => {
                    c.problem(format!("{path}.group"), format!("the pattern has only {} group(s)", re.captures_len() - 1))
                }
                Ok(re) => {
                    if let Some(missing) = value.as_deref().and_then(|v| missing_group(&re, v)) {
                        c.problem(format!("{path}.value"), format!("`${missing}` names no group of the pattern"))
                    }
                }
                Err(err) => c.problem(format!("{path}.pattern"), format!("not a valid regular expression: {err}")),
            },
            EntityDef::List { values, .. } => {
                if values.is_empty() {
                    c.problem(format!("{path}.values"), "a list needs at least one value");
                }
                // phrase (as matched) -> index of the value that first used it
                let mut phrases: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
                for (j, v) in values.iter().enumerate() {
                    let phrases_of = std::iter::once((format!("{path}.values[{j}].value"), &v.value))
                        .chain(v.synonyms.iter().enumerate().map(|(k, s)| (format!("{path}.values[{j}].synonyms[{k}]"), s)));
                    for (p, phrase) in phrases_of {
                        let key = crate::entities::list_key(phrase);
                        if key.is_empty() {
                            c.problem(p, "needs at least one letter or digit");
                        } else if let Some(&other) = phrases.get(&key) {
                            if other != j {
                                c.problem(p, format!("`{phrase}` also means `{}`; a phrase can mean one value only", values[other].value));
                            }
                        } else {
                            phrases.insert(key, j);
                        }
                    }
                }
            }
        }
    }

    // Slots learned from `[value](slot)` markup are entities too: forms and replies may use
    // them. A built-in name is refused (its values are normalised; learned ones are raw text).
    for (i, intent) in def.intents.iter().enumerate() {
        for (locale, examples) in &intent.examples {
            for (j, e) in examples.iter().enumerate().filter(|(_, e)| e.contains('[')) {
                for span in crate::slots::parse_markup(e).map(|a| a.spans).unwrap_or_default() {
                    if BUILTIN_ENTITIES.contains(&span.slot.as_str()) {
                        c.problem(
                            format!("intents[{i}].examples.{locale}[{j}]"),
                            format!("slot `{}` is a built-in entity; name the learned slot otherwise", span.slot),
                        );
                    } else if !entity_names.contains(span.slot.as_str()) {
                        learned.insert(span.slot);
                    }
                }
            }
        }
    }
    entity_names.extend(learned);

    let mut form_names: BTreeSet<String> = BTreeSet::new();
    for (i, form) in def.forms.iter().enumerate() {
        let path = format!("forms[{i}]");
        if !form_names.insert(form.name.clone()) {
            c.problem(format!("{path}.name"), format!("form `{}` is defined twice", form.name));
        }
        if form.slots.is_empty() {
            c.problem(format!("{path}.slots"), "a form needs at least one slot");
        }
        for (j, slot) in form.slots.iter().enumerate() {
            let sp = format!("{path}.slots[{j}]");
            if !entity_names.contains(slot.entity.as_str()) {
                c.problem(format!("{sp}.entity"), format!("no entity named `{}`", slot.entity));
            }
            c.message_id(&format!("{sp}.prompt"), &slot.prompt);
            c.message_id(&format!("{sp}.invalid"), &slot.invalid);
            if slot.max_tries == Some(0) {
                c.problem(format!("{sp}.max_tries"), "must be at least 1");
            }
            if let Some(pattern) = &slot.pattern {
                if let Err(e) = regex_lite::Regex::new(pattern) {
                    c.problem(format!("{sp}.pattern"), format!("not a valid regular expression: {e}"));
                }
            }
            for (k, q) in slot.quick_replies.iter().enumerate() {
                c.quick_reply(&format!("{sp}.quick_replies[{k}]"), q);
            }
        }
        if let Some(template) = &form.recommend {
            let slots: BTreeMap<String, String> = form.slots.iter().map(|s| (s.name.clone(), String::new())).collect();
            if crate::replies::fill_placeholders(template, &slots, str::to_owned).is_none() {
                c.problem(format!("{path}.recommend"), format!("`{template}` has a placeholder that is not one of the form's slots, or an unclosed `{{`"));
            }
        }
        if let Some(kind) = form.submit {
            for needed in kind.required() {
                if !form.slots.iter().any(|s| s.name == *needed) {
                    c.problem(format!("{path}.submit"), format!("a `{}` form needs a slot named `{needed}`", kind.as_str()));
                }
            }
            if let Some(email) = form.slots.iter().find(|s| s.name == "email" && s.entity != "email") {
                c.problem(format!("{path}.slots"), format!("the `email` slot of a submitting form must take the `email` entity, not `{}`", email.entity));
            }
        }
        if let Some(confirm) = &form.confirm {
            c.message_id(&format!("{path}.confirm.message"), &confirm.message);
            for (k, id) in confirm.buttons.iter().enumerate() {
                c.message_id(&format!("{path}.confirm.buttons[{k}]"), id);
            }
            for (field, intent) in [("yes", &confirm.yes), ("no", &confirm.no)] {
                if def.intent_index(intent).is_none() {
                    c.problem(format!("{path}.confirm.{field}"), format!("no intent named `{intent}`"));
                }
            }
        }
        c.reply(&format!("{path}.done"), &form.done);
        c.message_id(&format!("{path}.cancelled"), &form.cancelled);
        if let Some(give_up) = &form.give_up {
            c.message_id(&format!("{path}.give_up"), give_up);
        }
    }

    let mut intent_names: BTreeSet<String> = BTreeSet::new();
    let button_targets = button_targets(def);
    if def.intents.len() < 2 {
        c.problem("intents", "define at least two intents");
    }
    for (i, intent) in def.intents.iter().enumerate() {
        let path = format!("intents[{i}]");
        if !is_identifier(&intent.name, '_') {
            c.problem(format!("{path}.name"), "must use only a-z, 0-9 and _");
        }
        if !intent_names.insert(intent.name.clone()) {
            c.problem(format!("{path}.name"), format!("intent `{}` is defined twice", intent.name));
        }
        if let Some(title) = &intent.title {
            c.message_id(&format!("{path}.title"), title);
        }
        // An intent without examples is reached only by a button that names it (a quick reply's
        // `intent`): the classifier never predicts it.
        let total: usize = intent.examples.values().map(Vec::len).sum();
        if total == 0 && !button_targets.contains(intent.name.as_str()) {
            c.problem(format!("{path}.examples"), "give at least one example utterance, or name the intent in a quick reply's `intent` (a button-only intent)");
        }
        for (locale, examples) in &intent.examples {
            if !def.locales.contains(locale) {
                c.problem(format!("{path}.examples.{locale}"), "locale is not listed in `locales`");
            }
            for (j, e) in examples.iter().enumerate() {
                if e.trim().is_empty() {
                    c.problem(format!("{path}.examples.{locale}[{j}]"), "empty utterance");
                } else if e.contains('[') {
                    if let Err(err) = crate::slots::parse_markup(e) {
                        c.problem(format!("{path}.examples.{locale}[{j}]"), format!("bad slot markup: {err}"));
                    }
                }
            }
        }
        if let Some(reply) = &intent.reply {
            c.reply(&format!("{path}.reply"), reply);
            for (j, entity) in reply.uses.iter().enumerate() {
                if !entity_names.contains(entity.as_str()) {
                    c.problem(format!("{path}.reply.uses[{j}]"), format!("no entity named `{entity}`"));
                }
            }
        }
        if let Some(form) = &intent.form {
            if !def.forms.iter().any(|f| &f.name == form) {
                c.problem(format!("{path}.form"), format!("no form named `{form}`"));
            }
        }
        if intent.reply.is_none()
            && intent.form.is_none()
            && intent.action.is_none()
            && intent.name != crate::definition::OUT_OF_SCOPE_INTENT
        {
            c.problem(path.clone(), "needs a `reply`, a `form` or an `action`");
        }
        match intent.action {
            Some(Action::Handoff) if def.contact.is_none() && intent.reply.is_none() => c.problem(
                format!("{path}.action"),
                "the handoff action needs a top-level `contact` (or a `reply` of its own)",
            ),
            Some(Action::Recommend) if intent.reply.is_none() => c.problem(
                format!("{path}.reply"),
                "a recommend intent needs a reply, said before the products",
            ),
            Some(Action::ShowProfile | Action::ForgetMe) if intent.reply.is_none() || intent.form.is_some() => c.problem(
                format!("{path}.reply"),
                "a show_profile or forget_me intent needs a reply (said before the profile view or the confirmation) and no form",
            ),
            Some(Action::CancelForm) if intent.reply.is_none() => c.problem(
                format!("{path}.reply"),
                "a cancel_form intent needs a reply for when there is no form to cancel",
            ),
            Some(Action::CancelForm) if intent.form.is_some() => {
                c.problem(format!("{path}.form"), "a cancel_form intent cannot start a form")
            }
            _ => {}
        }
        if intent.ends_form && (intent.reply.is_none() || intent.form.is_some() || intent.action.is_some()) {
            c.problem(format!("{path}.ends_form"), "an intent that ends forms needs a reply, and no form or action of its own");
        }
        if let Some(entity) = &intent.remember_name {
            if !entity_names.contains(entity.as_str()) {
                c.problem(format!("{path}.remember_name"), format!("no entity named `{entity}`"));
            }
        }
    }

    c.message_id("fallback.message", &def.fallback.message);
    c.message_id("greeting.message", &def.greeting.message);
    c.message_id("greeting.returning", &def.greeting.returning);
    for (i, q) in def.greeting.quick_replies.iter().enumerate() {
        c.quick_reply(&format!("greeting.quick_replies[{i}]"), q);
    }
    for (kind, message) in &def.greeting.topics {
        let path = format!("greeting.topics.{kind}");
        c.message_id(&path, message);
        if !def.forms.iter().any(|f| &f.name == kind) {
            c.problem(path.clone(), format!("no form named `{kind}` (a topic is opened by its form's done)"));
        }
        if def.profile.is_none() {
            c.problem(path, "open topics are kept only by a bot with a `profile`");
        }
    }
    facts(&mut c);
    if def.fallback.suggestions > 5 {
        c.problem("fallback.suggestions", "at most 5 suggestions fit under a message");
    }
    if let Some(contact) = &def.contact {
        c.message_id("contact.message", &contact.message);
        if let Some(offer) = &contact.offer {
            c.message_id("contact.offer", offer);
        }
        if let Some(email) = &contact.email {
            if !email.contains('@') || email.chars().any(char::is_whitespace) {
                c.problem("contact.email", format!("`{email}` is not an e-mail address"));
            }
        }
        if let Some(phone) = &contact.phone {
            if !phone.chars().any(|ch| ch.is_ascii_digit())
                || !phone.chars().all(|ch| ch.is_ascii_digit() || " +-().".contains(ch))
            {
                c.problem("contact.phone", format!("`{phone}` is not a phone number (digits, spaces, + - ( ) .)"));
            }
        }
        if let Some(url) = &contact.url {
            if !url.starts_with("https://") && !url.starts_with("http://") {
                c.problem("contact.url", "must be an http or https URL");
            }
        }
    }
    if let Some(profile) = &def.profile {
        for (j, entity) in profile.remember.iter().enumerate() {
            if !entity_names.contains(entity.as_str()) {
                c.problem(format!("profile.remember[{j}]"), format!("no entity named `{entity}`"));
            }
        }
        if profile.days == Some(0) {
            c.problem("profile.days", "must be at least 1");
        }
    }
    c.triggers();
    c.csat();
    c.problems
}

impl Checker<'_> {
    /// The `triggers`: ids unique and well formed, at least one condition each, values in
    /// range, messages and buttons defined, caps at least 1.
    fn triggers(&mut self) {
        let mut ids = BTreeSet::new();
        for (i, trigger) in self.def.triggers.iter().enumerate() {
            let path = format!("triggers[{i}]");
            if !is_identifier(&trigger.id, '-') {
                self.problem(format!("{path}.id"), "must match [a-z0-9-]+");
            } else if !ids.insert(trigger.id.as_str()) {
                self.problem(format!("{path}.id"), format!("duplicate trigger id `{}`", trigger.id));
            }
            let when = &trigger.when;
            if when.is_empty() {
                self.problem(format!("{path}.when"), "set at least one condition (a trigger without one would fire on every page)");
            }
            if when.scroll_pct.is_some_and(|p| p > 100) {
                self.problem(format!("{path}.when.scroll_pct"), "must be in [0, 100]");
            }
            if when.page.as_deref().is_some_and(|p| p.trim().is_empty()) {
                self.problem(format!("{path}.when.page"), "must not be empty");
            }
            if when.event.as_deref().is_some_and(|e| !is_identifier(e, '_')) {
                self.problem(format!("{path}.when.event"), "must match [a-z0-9_]+ (a track() event name)");
            }
            if when.exit_intent && when.tab_return {
                self.problem(format!("{path}.when"), "exit_intent and tab_return are two different moments; set one");
            }
            self.message_id(&format!("{path}.message"), &trigger.message);
            for (j, q) in trigger.quick_replies.iter().enumerate() {
                self.quick_reply(&format!("{path}.quick_replies[{j}]"), q);
            }
            if trigger.promo.as_deref().is_some_and(|p| p.trim().is_empty() || p.len() > 40) {
                self.problem(format!("{path}.promo"), "must be 1 to 40 characters");
            }
            for (name, value) in [("visit", trigger.cap.visit), ("day", trigger.cap.day), ("ever", trigger.cap.ever)] {
                if value == Some(0) {
                    self.problem(format!("{path}.cap.{name}"), "must be at least 1 (remove the trigger to never show it)");
                }
            }
        }
    }

    /// The `csat` question: its intents exist and its messages are defined.
    fn csat(&mut self) {
        let Some(csat) = &self.def.csat else { return };
        if csat.after.is_empty() {
            self.problem("csat.after", "name at least one intent that ends a conversation");
        }
        for (i, intent) in csat.after.iter().enumerate() {
            if self.def.intent_index(intent).is_none() {
                self.problem(format!("csat.after[{i}]"), format!("no intent named `{intent}`"));
            }
        }
        for (name, id) in [("message", &csat.message), ("comment", &csat.comment), ("skip", &csat.skip), ("thanks", &csat.thanks)] {
            self.message_id(&format!("csat.{name}"), id);
        }
    }
}

/// The intents some button names (a quick reply's `intent` in a reply, a slot, the greeting or
/// a trigger): an intent without examples is allowed when it is one of them.
fn button_targets(def: &BotDefinition) -> BTreeSet<&str> {
    let replies = def.intents.iter().filter_map(|i| i.reply.as_ref()).flat_map(|r| &r.quick_replies);
    let slots = def.forms.iter().flat_map(|f| &f.slots).flat_map(|s| &s.quick_replies);
    let triggers = def.triggers.iter().flat_map(|t| &t.quick_replies);
    replies
        .chain(slots)
        .chain(&def.greeting.quick_replies)
        .chain(triggers)
        .filter_map(|q| q.intent.as_deref())
        .collect()
}

/// The first group that `template` (regex-lite's replacement syntax: `$1`, `$name`, `${name}`,
/// `$$` for a dollar) names and `re` does not have; `None` when every one exists. regex-lite
/// would expand such a group to nothing, silently.
fn missing_group(re: &regex_lite::Regex, template: &str) -> Option<String> {
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            rest = after;
            continue;
        }
        let (name, after) = match rest.strip_prefix('{') {
            Some(braced) => braced.split_once('}').unwrap_or((braced, "")),
            None => {
                let end = rest.find(|c: char| !(c == '_' || c.is_ascii_alphanumeric())).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        rest = after;
        let known = match name.parse::<usize>() {
            Ok(i) => i < re.captures_len(),
            Err(_) => re.capture_names().any(|n| n == Some(name)),
        };
        if !name.is_empty() && !known {
            return Some(name.to_owned());
        }
    }
    None
}
