//! Dialogue management: one visitor message in, the bot's messages out, the state updated.
//!
//! Order of decisions for a text message: an active form gets first look (valid slot values
//! fill it, several at once and in any order, each checked against the slot's entity, allowed
//! `values` and `pattern`; a cancel intent cancels it, unless the message carries a valid value
//! for the slot being asked and nothing else that makes a request ("I changed my mind" asked
//! for a return's reason is the reason); once every slot is filled a form with
//! `confirm` asks a yes/no question, where yes closes it, no cancels it and a new value
//! corrects a slot; a confident side question is answered and the form resumes; anything else
//! re-prompts, up to the slot's tries); otherwise a short message carrying an entity that the
//! context's intent talks about, without a confident intent of its own about that entity, is a
//! follow-up and answers that intent again ("and to Mexico?"); otherwise the best intent above
//! the threshold runs its action, form or reply, taking entities its reply `uses` from the
//! message, else from the entities the visitor mentioned in the last `memory_turns` turns in
//! any message (the newest wins: "my tent arrived torn" … "does it keep the rain out?"), else
//! from the context; otherwise the fallback answers with "did you
//! mean" quick replies for the best titled intents, and a way to a person after two in a row.
//!
//! Entities come from the rule-based extractors and, when the examples carry `[value](slot)`
//! markup, from the slot tagger trained with the intents: a learned slot is an entity named
//! after the slot, so forms fill from it like from any other, with the rule-based value of the
//! same name taking precedence over the same words.
//!
//! Every message is scored for sentiment ([`crate::sentiment`]): a strongly negative one gets
//! each reply's `empathetic` variant, and a second one (unless that turn already offers a person)
//! adds the contact's `offer` message with a button for the handoff intent. The follow-up topic,
//! the one memory of values (each entry with its own expiry and source: mentioned by the
//! visitor, or part of an answer's context), the form's phase and the negative count all live
//! in the [`crate::ConversationState`], so a reload mid-form or mid-follow-up loses nothing.
//!
//! A turn runs in three steps, each its own submodule (in the manner of ripgrep's searcher,
//! which decides in one place and writes through a `Sink` in another): `understand` (the NLU's
//! reading of the message), then `decide` (pure: the bot, the state and the understanding in,
//! a `Decision` out: a form step, an intent's answer with its values, or the fallback with its
//! suggestions), `apply` (the state transition: form phase and slots, context, mentions,
//! counts) and `render` (Fluent, in the visitor's locale). `flow` runs them in order. Every
//! policy number is a field of [`crate::definition::DialogueSettings`], resolved once by the
//! domain.

use serde::{Deserialize, Serialize};

use crate::domain::Domain;
use crate::entities::Entity;
use crate::nlu::IntentClassifier;
use crate::slots::SlotTagger;
pub use crate::replies::{is_allowed_url, BotMessage, Link, QuickReply};

mod apply;
mod csat;
mod decide;
mod flow;
mod locale;
mod render;
mod shopping;
mod taught;
mod understand;

pub(crate) use apply::record;
pub(crate) use taught::record_thumbs;
pub use taught::{MAX_SHIFT as TAUGHT_MAX_SHIFT, MIN_SIMILARITY as TAUGHT_MIN_SIMILARITY};
pub(crate) use understand::{classify, detect_language, nlu_text, understand};
pub use understand::MAX_TURN_CHARS;
pub(crate) use locale::{bot_locale, choose as choose_locale};
pub use locale::OFFER_MESSAGE_ID;

/// A ready-to-chat bot: a compiled [`Domain`] with its trained intent and locale classifiers and
/// slot tagger. Immutable: every conversation's data lives in a [`crate::ConversationState`].
///
/// Built by the facade's constructors (`Bot::train`, `Bot::from_model`, …, in `bot.rs`); the
/// turn logic that reads it is this module's (`flow.rs`: `decide.rs`, `apply.rs`, `render.rs`).
#[derive(Debug)]
pub struct Bot {
    pub(crate) domain: Domain,
    pub(crate) intents: IntentClassifier,
    pub(crate) locales: IntentClassifier,
    /// Slot taggers learned from the definition's `[value](slot)` markup, one per locale in
    /// definition order (`None` for a locale none of whose examples is marked up, or whose
    /// model part is missing); empty when no example is marked up.
    pub(crate) slots: Vec<Option<SlotTagger>>,
    /// Locales of a model loaded in parts whose part has not been added yet
    /// ([`Bot::add_locale`](crate::Bot::add_locale)): the bot does not reply in them.
    pub(crate) missing: Vec<String>,
    /// FNV-1a 64 of the common model file, which its locale parts name; 0 for a whole model.
    pub(crate) model_hash: u64,
    /// Each locale's sentiment lexicon, in definition order (`None` while its part is
    /// missing).
    pub(crate) sentiment: Vec<Option<crate::sentiment::Lexicon>>,
    /// Trained from a definition (every example at hand), not loaded from a model file
    /// (which keeps only the examples made of entities alone).
    pub(crate) trained: bool,
}

/// The clock of one turn, passed in by the caller (the core reads no clock): the time and the
/// visitor's offset from UTC, so that relative dates ("tomorrow", "on Friday") are the
/// visitor's own and not UTC's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TurnContext {
    /// Milliseconds since the Unix epoch (UTC).
    pub now_ms: u64,
    /// The visitor's offset from UTC in minutes, east positive (`+60` for Madrid in winter,
    /// `-300` for New York); JavaScript's `Date.getTimezoneOffset()` is its negation.
    #[serde(default)]
    pub utc_offset_min: i32,
}

impl TurnContext {
    /// A turn at `now_ms` for a visitor whose offset from UTC is `utc_offset_min` minutes.
    pub fn new(now_ms: u64, utc_offset_min: i32) -> TurnContext {
        TurnContext { now_ms, utc_offset_min }
    }

    /// A turn at `now_ms` for a visitor on UTC (tests, tools without a visitor's clock).
    pub fn utc(now_ms: u64) -> TurnContext {
        TurnContext { now_ms, utc_offset_min: 0 }
    }
}

/// Visitor turns a conversation context lasts when the reply sets no `context_turns`
/// ([`DialogueSettings::context_turns`](crate::definition::DialogueSettings::context_turns)'s default).
pub const DEFAULT_CONTEXT_TURNS: u8 = crate::definition::DialogueSettings::DEFAULT.context_turns;

/// Visitor turns a mentioned entity is remembered when the definition sets no `memory_turns`
/// ([`DialogueSettings::memory_turns`](crate::definition::DialogueSettings::memory_turns)'s default).
pub const DEFAULT_MEMORY_TURNS: u8 = crate::definition::DialogueSettings::DEFAULT.memory_turns;

/// What the visitor did: typed text, or pressed a quick reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// Free text typed by the visitor.
    Text {
        /// The message, as typed.
        text: String,
    },
    /// A quick reply button: its label (recorded in the transcript) and its intent, which runs
    /// without classification. Without an intent the label is classified like typed text.
    QuickReply {
        /// The button's label, as shown.
        label: String,
        /// The intent the button triggers.
        #[serde(default)]
        intent: Option<String>,
        /// The bot locale the button selects ([`QuickReply::locale`]); it wins over `intent`.
        #[serde(default)]
        locale: Option<String>,
    },
}

/// What the NLU made of one visitor message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NluResult {
    /// The recognised intent, or `None` when below the threshold (fallback).
    pub intent: Option<String>,
    /// Confidence of the best intent, in [0, 1].
    pub confidence: f32,
    /// The best intents, best first, with their confidences (at most 5).
    pub ranking: Vec<(String, f32)>,
    /// Entities found in the message.
    pub entities: Vec<Entity>,
    /// The locale the message appears to be in (one of the bot's locales).
    pub locale: String,
    /// Sentiment score in [-1, 1], negative below zero ([`crate::sentiment::score`] in the
    /// message's locale when clear, else the conversation's).
    #[serde(default)]
    pub sentiment: f32,
}

/// The language of one message as a turn reads it ([`crate::Bot::detect_language`]): the
/// language steps of [`crate::Bot::understand`] without the intent, entities and slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageGuess {
    /// The bot locale the locale classifier finds most likely (BCP 47, one of the bot's).
    pub locale: String,
    /// Its probability in [0, 1]; a reply switches to it only when this is at least
    /// `locale_confidence` and the message has `locale_min_words` words (the definition's
    /// dialogue settings).
    pub confidence: f32,
    /// The built-in identifier's guess among the ~30 languages it knows (ISO 639-1, `it`),
    /// spoken by the bot or not, before any threshold; `None` without evidence (digits, one
    /// short Latin word).
    pub language: Option<String>,
    /// Its confidence in [0, 1] (0 when `language` is `None`).
    pub language_confidence: f32,
    /// The language the message explicitly asks for ("can we speak French?": `fr`).
    pub requested: Option<String>,
}

/// The bot's answer to one input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Messages to show, in order.
    pub messages: Vec<BotMessage>,
    /// The NLU result for text input (`None` for a quick reply with an intent).
    pub nlu: Option<NluResult>,
    /// The intent acted on (from the NLU or the quick reply), `None` for the fallback.
    pub intent: Option<String>,
    /// True when the turn asks for a human (the handoff action ran).
    pub handoff: bool,
    /// The visitor's request when the recommend action ran: the caller ranks its catalog for
    /// it (`catalog::rank`) and shows the products after the messages. `None` otherwise.
    #[serde(default)]
    pub recommend: Option<String>,
    /// With `recommend`: the values of the owner's list entities the request named (the
    /// product `sleeping_bag` for "ich suche einen Schlafsack", the season `winter`), `_` read
    /// as a space; a catalog without text in the visitor's language searches these words with
    /// the request's own ([`crate::catalog::RankContext::terms`]). Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recommend_terms: Vec<String>,
    /// With `recommend`: what to say instead of the first message when the caller shows
    /// products for the request (the reply's `with_products`, with its quick replies). Telling
    /// the core which it showed ([`crate::Bot::shown`]) puts this text in the transcript in the
    /// first message's place. `None` when the reply has none.
    #[serde(default)]
    pub with_products: Option<BotMessage>,
    /// A follow-up about the products shown last (`Bot::shown`), read by
    /// [`crate::catalog::followup`]: for a refinement `recommend` is the refined request and
    /// `products` the ones shown before; for a comparison the two to compare; for "what goes
    /// with it?" the one to match. The core says nothing of its own: the caller shows them.
    #[serde(default)]
    pub products: Option<ProductFollowUp>,
    /// A form with `submit` was done this turn: its kind and slots, for the caller to show the
    /// visitor and send only with their yes (`protocol::Submission`). `None` otherwise.
    #[serde(default)]
    pub submit: Option<FormSubmit>,
    /// An intent with the show_profile or forget_me action ran: the caller shows what the
    /// chat keeps about the visitor (each fact removable), or asks them to confirm deleting
    /// everything it stored. `None` otherwise.
    #[serde(default)]
    pub privacy: Option<PrivacyRequest>,
}

/// What a turn asks the caller to do with the visitor's stored profile ([`Turn::privacy`]);
/// serialized `"show"` / `"forget"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyRequest {
    /// Show the facts kept about the visitor, each with its source and a way to remove it.
    Show,
    /// Ask the visitor to confirm, then delete everything the chat stored on the device.
    Forget,
}

/// What a finished form asks to send to the shop ([`Turn::submit`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormSubmit {
    /// Lead, newsletter or back in stock.
    pub kind: crate::protocol::SubmissionKind,
    /// The form's slots, name → value (normalised entity values, as the form's messages saw them).
    pub fields: std::collections::BTreeMap<String, String>,
}

/// What a follow-up asks of which products ([`Turn::products`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductFollowUp {
    /// Refine, compare or related.
    pub kind: crate::catalog::followup::FollowUp,
    /// Product ids, best first.
    pub products: Vec<String>,
}
