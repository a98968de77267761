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
//! trained weights in a versioned binary format (see [`model`]).
#![forbid(unsafe_code)]

/// The bot definition format: intents, examples, messages, entities, forms; parsing and validation.
pub mod definition;
/// Dialogue management: turns, forms, fallback with suggestions, handoff, greetings.
pub mod dialogue;
/// Escalation to a person: the redacted payload the visitor consents to, delivery status with backoff.
pub mod escalation;
/// Entity extraction: built-in (email, number) and owner-defined patterns.
pub mod entities;
/// The compiled model file: a versioned binary holding a definition and its trained classifiers.
pub mod model;
/// The widget ↔ escalation server contract: typed bodies, their validation, and delivery as a sans-IO state machine.
pub mod protocol;
/// Natural-language understanding: text normalisation, features and trained classifiers.
pub mod nlu;
/// Localised replies rendered from Fluent messages, with a locale fallback chain.
pub mod replies;
/// Slots learned from annotated examples: `[Boston](city)` markup, a trained BIO tagger, scores.
pub mod slots;
/// Sentiment of visitor messages from a shipped lexicon (en, es), with negation and intensifiers.
pub mod sentiment;
/// Stories: conversation tests as data and the runner that checks them turn by turn.
pub mod stories;
/// The serializable conversation state: transcript, active form, visitor profile.
pub mod state;
/// The bottom layer: one analysis per message (`Utterance`), one folding, one hash, one PRNG.
pub mod text;

mod bot;
/// One stable sort shared by every call site, so std's sort is compiled into the wasm once.
mod sort;

pub use bot::{Bot, BotError, DEFAULT_THRESHOLD};
pub use definition::{BotDefinition, DefinitionError};
pub use dialogue::{BotMessage, Input, Link, NluResult, QuickReply, Turn};
pub use model::ModelError;
pub use state::{Context, ConversationState, Mention, Profile, Speaker, StateError, TranscriptEntry};
