//! The reply locale of a conversation, message by message, with hysteresis: what a message
//! does to it ([`step`], pure), performing that ([`apply`]), the visitor's own choice
//! ([`choose`]), and the offer of the bot's languages ([`offer`]).
//!
//! The policy, in order:
//! 1. An explicit request ("can we speak French?", "en español por favor", "بالعربي", a
//!    language button, the widget's menu) always wins: a locale the bot has becomes the
//!    visitor's choice ([`crate::Profile::locale_chosen`]) and automatic switching stops until
//!    they ask again; a language the bot lacks gets the offer of the bot's languages.
//! 2. A message clearly in a language the bot lacks (the built-in identifier, [`crate::lang`])
//!    gets the offer, in that language, once (never after the visitor chose): a second message
//!    in it in a row is answered as usual (the visitor saw the buttons and went on), and such
//!    a message never moves the locale.
//! 3. Once the visitor chose, nothing else moves the locale.
//! 4. A message in another of the bot's locales moves it only when it is clear (the locale
//!    classifier at least `locale_confidence` sure with `locale_min_words` words), and then
//!    at once only when very clear (`locale_switch_confidence` and `locale_switch_min_words`
//!    language words, or `locale_min_words` words in a script other than Latin that names
//!    the language by itself: "أين طلبي؟" switches to Arabic at once, see
//!    [`Understanding::script_clear`]; or `locale_min_words` words when no earlier message of
//!    the visitor had as many, before which the reply locale was only a default: "hola", then
//!    "mi pedido no ha llegado", switches at the second), else at the second
//!    clear message in a row in that locale. A short or ambiguous message ("ok", "gracias", "شكرا", a product name, an order
//!    number, digits) neither switches nor breaks a pending streak; a clear message in the
//!    reply locale ends it.

use crate::dialogue::understand::Understanding;
use crate::dialogue::{Bot, BotMessage, QuickReply};
use crate::lang::Language;
use crate::state::ConversationState;

/// What one message does to the reply locale.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LocaleStep {
    /// Nothing changes.
    Stay,
    /// A clear message in the reply locale: a pending switch is dropped.
    Settle,
    /// A clear message in this other bot locale: the switch waits for a second one.
    Wait(String),
    /// The replies switch to this bot locale.
    Switch(String),
    /// The visitor asked for this bot locale: it becomes their choice.
    Choose(String),
    /// The visitor asked for a language the bot lacks, or wrote in one (`Some`: then the
    /// offer is in that language and remembered): they are told which languages the bot speaks.
    Offer(Option<&'static Language>),
}

/// The bot locale that `code` (BCP 47) names: the same tag (case-insensitive), else the first
/// of the bot's locales with the same primary subtag (`pt` → `pt-BR`).
pub(crate) fn bot_locale(bot: &Bot, code: &str) -> Option<String> {
    let locales = &bot.domain.definition.locales;
    locales
        .iter()
        .find(|l| l.eq_ignore_ascii_case(code))
        .or_else(|| locales.iter().find(|l| crate::lang::primary(l).eq_ignore_ascii_case(crate::lang::primary(code))))
        .cloned()
}

/// What `u` does to `state`'s reply locale (the module's policy).
pub(crate) fn step(bot: &Bot, state: &ConversationState, u: &Understanding) -> LocaleStep {
    let settings = &bot.domain.settings;
    let profile = &state.profile;
    if let Some(lang) = u.requested {
        return match bot_locale(bot, lang.code) {
            // A locale whose model part is not loaded has no messages to reply with (the page
            // adds it first: `Bot::locale_needed`).
            Some(locale) if bot.missing.contains(&locale) => LocaleStep::Stay,
            Some(locale) => LocaleStep::Choose(locale),
            None => LocaleStep::Offer(None),
        };
    }
    if let Some(lang) = u.foreign {
        // Offered once; a message in a language the bot lacks never switches to one it has.
        let offered = profile.locale_chosen || profile.locale_pending.as_deref() == Some(lang.code);
        return if offered { LocaleStep::Stay } else { LocaleStep::Offer(Some(lang)) };
    }
    if profile.locale_chosen || !u.locale_is_clear {
        return LocaleStep::Stay;
    }
    let locale = &u.result.locale;
    if *locale == profile.locale {
        return LocaleStep::Settle;
    }
    // Before the visitor's first message the reply locale is only a default (the bot's first
    // locale, or the page's guess from the browser): a clear first message sets it. A greeting
    // or an order number before it is too short to have said anything ("hola", then "mi
    // pedido no ha llegado", is answered in Spanish at once). Its words must be words the
    // examples taught: "uh huh hmm" is German at 0.8 only because of its letters.
    let min_words = usize::from(settings.locale_min_words);
    let first = state
        .transcript
        .iter()
        .filter(|e| e.from == crate::state::Speaker::Visitor)
        .all(|e| e.text.split_whitespace().count() < min_words);
    let very_clear = u.script_clear
        || (first && u.language_words >= min_words && u.taught_words >= min_words)
        || (u.locale_confidence >= settings.locale_switch_confidence
            && u.language_words >= usize::from(settings.locale_switch_min_words));
    if very_clear || profile.locale_pending.as_ref() == Some(locale) {
        LocaleStep::Switch(locale.clone())
    } else {
        LocaleStep::Wait(locale.clone())
    }
}

/// Performs `step` on `state`.
pub(crate) fn apply(state: &mut ConversationState, step: &LocaleStep) {
    let profile = &mut state.profile;
    match step {
        LocaleStep::Stay => {}
        LocaleStep::Settle => profile.locale_pending = None,
        LocaleStep::Wait(locale) => profile.locale_pending = Some(locale.clone()),
        LocaleStep::Switch(locale) => {
            profile.locale = locale.clone();
            profile.locale_pending = None;
        }
        LocaleStep::Choose(locale) => choose(state, locale),
        LocaleStep::Offer(lang) => profile.locale_pending = lang.map(|l| l.code.to_owned()),
    }
}

/// Makes `locale` (one of the bot's) the visitor's choice: the replies are in it and stop
/// following the language of the messages.
pub(crate) fn choose(state: &mut ConversationState, locale: &str) {
    state.profile.locale = locale.to_owned();
    state.profile.locale_chosen = true;
    state.profile.locale_pending = None;
}

/// The id of the offer's message (built in: no definition message has to exist for it).
pub const OFFER_MESSAGE_ID: &str = "sottovoce-languages";

/// The offer of the bot's languages: "I can answer in English and Español." in `lang` (else in
/// the reply locale's language, else English), with one button per bot locale labelled with
/// its own name, which selects it ([`QuickReply::locale`]).
pub(crate) fn offer(bot: &Bot, state: &ConversationState, lang: Option<&'static Language>) -> BotMessage {
    let locales = &bot.domain.definition.locales;
    let lang = lang
        .or_else(|| crate::lang::language(&state.profile.locale))
        .or_else(|| crate::lang::language("en"))
        .expect("the language table has English");
    BotMessage {
        id: OFFER_MESSAGE_ID.to_owned(),
        text: crate::lang::offer(lang, locales),
        quick_replies: locales
            .iter()
            .map(|l| QuickReply {
                label: crate::lang::language(l).map_or_else(|| l.clone(), |x| x.endonym.to_owned()),
                intent: None,
                locale: Some(l.clone()),
            })
            .collect(),
        links: Vec::new(),
    }
}
