//! sottovoce: a customer-service chatbot core that runs on the visitor's own device.
//!
//! The core is pure Rust. It never reads a clock, the file system, OS randomness or browser
//! storage: the caller passes the time (`now_ms`, milliseconds since the Unix epoch), a seed
//! for reply variation, and the serialized [`ConversationState`] it stored last time. The same
//! code runs natively (CLI, escalation server) and in WebAssembly (the widget).
//!
//! The flow, for one visitor message:
//!
//! ```text
//! text ─▶ nlu (locale, intent ranking, confidence) ─▶ entities ─▶ dialogue (forms, fallback,
//!        profile) ─▶ replies (Fluent, per locale) ─▶ Turn { messages, nlu } + updated state
//! ```
//!
//! A [`Bot`] is built either by training from a [`BotDefinition`] ([`Bot::train`]) or by
//! loading a compiled model file ([`Bot::from_model`]), which holds the definition and the
//! trained weights in a versioned binary format.
//!
//! # Example
//!
//! One visit to a two-intent bot trained in place (a site would load a model compiled by
//! `sottovoce build` with [`Bot::from_model`] instead):
//!
//! ```
//! use sottovoce::{Bot, Input, TurnContext};
//!
//! let definition = r#"{
//!   "format": 1, "id": "doc-shop", "name": "Doc Shop", "locales": ["en"],
//!   "intents": [
//!     { "name": "greet", "examples": { "en": ["hello", "hi there", "good morning", "hey"] },
//!       "reply": { "message": "greet-reply" } },
//!     { "name": "shipping", "examples": { "en": ["how much is shipping", "delivery fee",
//!         "do you charge for delivery", "shipping costs"] },
//!       "reply": { "message": "shipping-reply" } }
//!   ],
//!   "fallback": { "message": "fallback" },
//!   "greeting": { "message": "greeting", "returning": "greeting" },
//!   "messages": { "en": { "greet-reply": "Hello!", "shipping-reply": "Shipping is free over 50 €.",
//!                         "fallback": "Sorry, I did not get that.", "greeting": "Hi! How can I help?" } }
//! }"#;
//! let bot = Bot::from_json(definition)?;
//! let now_ms = 1_764_806_400_000; // the caller's clock: the core reads none
//! let mut state = bot.new_state("en", 7, now_ms);
//! let at = TurnContext::new(now_ms, 60); // the visitor's clock: UTC+1 (Madrid in winter)
//! let turn = bot.respond(&mut state, Input::Text { text: "how much is delivery?".into() }, at);
//! assert_eq!(turn.intent.as_deref(), Some("shipping"));
//! assert_eq!(turn.messages[0].text, "Shipping is free over 50 €.");
//! // `state` is what the caller stores (the widget: `localStorage`) until the next message.
//! # Ok::<(), sottovoce::BotError>(())
//! ```
//!
//! # Public API
//!
//! The crate root re-exports what a caller of the bot needs; [`protocol`] (the widget ↔
//! escalation server contract), [`escalation`] (the payload a visitor consents to send) and
//! [`stories`] (conversation tests as data) are public modules because the binding, the server
//! and the CLI share them. Every other module is private; the `internals` feature makes them
//! public for this crate's own benchmarks, tests and the CLI's `eval`, never for the binding.
#![forbid(unsafe_code)]
// Without `internals`, items that only the CLI's `eval`, the tests or the benchmarks reach are
// unreachable from outside; the lints run on the `internals` build (`cargo test`), which sees them.
#![cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code, unused_imports))]

/// Declares the internal modules: public with the `internals` feature, private without it.
macro_rules! internal_modules {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[cfg(feature = "internals")]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        mod $name;
    )*};
}

internal_modules! {
    /// The product catalog: the JSONL format, and recommendations ranked for a request (BM25 baseline beside).
    catalog;
    /// The bot definition format: intents, examples, messages, entities, forms; parsing and validation.
    definition;
    /// Dialogue management: turns, forms, fallback with suggestions, handoff, greetings.
    dialogue;
    /// The compiled domain: a validated definition with what every turn reads built once.
    domain;
    /// Key figures measured on the device: a conversation's outcome, fallbacks, picks, CSAT; anonymous sums.
    kpi;
    /// Entity extraction: built-in (email, number) and owner-defined patterns.
    entities;
    /// The compiled model file: a versioned binary holding a definition and its trained classifiers.
    model;
    /// Which human language a message is in (about 30, by script and frequent words), explicit requests for one.
    lang;
    /// Natural-language understanding: features and trained classifiers.
    nlu;
    /// Localised replies rendered from Fluent messages, with a locale fallback chain.
    replies;
    /// Slots learned from annotated examples: `[Boston](city)` markup, a trained BIO tagger, scores.
    slots;
    /// Sentiment of visitor messages from a lexicon per locale (six built in, carried by the model), with negation and intensifiers.
    sentiment;
    /// Proactive teasers: triggers evaluated from the page's events, with caps kept in the state.
    proactive;
    /// The serializable conversation state: transcript, active form, visitor profile.
    state;
    /// The bottom layer: one analysis per message (`Utterance`), one folding, one hash, one PRNG.
    text;
}

/// Escalation to a person: the redacted payload the visitor consents to, delivery status with backoff.
pub mod escalation;
/// The widget ↔ escalation server contract: typed bodies, their validation, and delivery as a sans-IO state machine.
pub mod protocol;
/// Stories: conversation tests as data and the runner that checks them turn by turn.
pub mod stories;

mod bot;
/// One stable sort shared by every call site, so std's sort is compiled into the wasm once.
mod sort;

pub use bot::{BotError, LocaleError, MAX_SITE_FACTS};
pub use catalog::rank::{RankContext, RankSettings, Ranked, Ranker};
pub use catalog::labels::key_label as attribute_label;
pub use catalog::{Catalog, CatalogError, Price, Product};
pub use dialogue::Bot;
pub use domain::DEFAULT_THRESHOLD;
pub use definition::{BotDefinition, CapDef, CsatDef, DefinitionError, DialogueSettings, DialogueSettingsDef, ProfileDef, SiteValue, TriggerDef, TriggerWhen, OUT_OF_SCOPE_INTENT};
pub use proactive::{PageContext, PageEvent, Teaser};
pub use dialogue::{TAUGHT_MAX_SHIFT, TAUGHT_MIN_SIMILARITY};
pub use dialogue::{is_allowed_url, BotMessage, FormSubmit, PrivacyRequest, Input, LanguageGuess, Link, NluResult, ProductFollowUp, QuickReply, Turn, TurnContext, MAX_TURN_CHARS, OFFER_MESSAGE_ID};
pub use entities::Entity;
pub use kpi::{ConversationKpis, Kpis, Outcome, Tally};
pub use replies::fill_placeholders;
pub use text::{fnv1a64, jaccard, word_set};
pub use model::{is_model, ModelError};
// WordPiece: a sentence encoder outside the core corrects typos against its own vocabulary as
// the static table does (crates/sottovoce-encoder's `BotEncoder`).
pub use nlu::{SentenceEncoder, StaticVectors, WordPiece};
pub use state::{
    ConversationState, CsatAfter, CsatPending, CsatRating, CsatState, Customer, Fact, FactSource, Memory, MemoryEntry, MemorySource, OpenTopic, Order, ProactiveState, Profile, Shown, Speaker, StateError, Taught, Topic, TranscriptEntry, MAX_TAUGHT, NO_TIPS_FACT, STATE_VERSION,
};
