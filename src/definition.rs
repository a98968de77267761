//! The bot definition: what a site owner writes (JSON), parsed and validated.
//!
//! The format is versioned by the top-level `format` field
//! ([`DEFINITION_FORMAT`](crate::definition::DEFINITION_FORMAT)) and described by the JSON
//! Schema in `schema/bot-definition.schema.json`. Validation reports every problem with its JSON
//! path, not just the first one (the habit of fluent-rs: a partly broken input still tells you
//! everything that is wrong with it).
//!
//! The same types are the definition's binary form inside a model file ([`crate::model`],
//! postcard). Postcard reads fields by position, so no field is ever skipped when serializing
//! (`null` and `[]` are written out in JSON), and the one tagged enum, [`EntityDef`], has a
//! spelling per format.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

mod proactive;
mod settings;

pub use proactive::{CapDef, CsatDef, TriggerDef, TriggerWhen, DEFAULT_CAP_PER_VISIT};
pub use settings::{DialogueSettings, DialogueSettingsDef};

/// The definition format version this build reads and writes.
pub const DEFINITION_FORMAT: u32 = 1;

/// Reserved intent name (Rasa's convention): its examples are things the bot does not handle.
/// It is trained like any intent, and when it wins the fallback answers, so it needs no
/// `reply` and is never offered as a "did you mean" button.
pub const OUT_OF_SCOPE_INTENT: &str = "out_of_scope";

/// A whole bot: identity, locales, intents with example utterances, messages, entities, forms.
///
/// Message ids (`message`, `label`, `prompt`…) refer to keys of [`BotDefinition::messages`];
/// every locale should define every id, and a missing one falls back to the default locale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotDefinition {
    /// Format version; must equal [`DEFINITION_FORMAT`].
    pub format: u32,
    /// Stable identifier, `[a-z0-9-]+`; namespaces the visitor's stored state.
    pub id: String,
    /// Display name, used as the chat panel's accessible name.
    pub name: String,
    /// Supported locales as BCP 47 tags (`en`, `es`); the first is the default.
    pub locales: Vec<String>,
    /// Minimum intent confidence in [0, 1] below which the fallback answers.
    /// `None` uses [`crate::DEFAULT_THRESHOLD`] (calibrated in `tests/threshold_calibration.rs`).
    #[serde(default)]
    pub threshold: Option<f32>,
    /// The intents, each with examples per locale and what to do when it is recognised.
    pub intents: Vec<IntentDef>,
    /// Fluent message patterns: locale → message id → pattern (`"Hi { $name }!"`).
    pub messages: BTreeMap<String, BTreeMap<String, String>>,
    /// Owner-defined entities (patterns). The built-ins ([`crate::entities::BUILTIN_ENTITIES`]:
    /// `email`, `number`, `money`, `duration`, `ordinal`…) are always available.
    #[serde(default)]
    pub entities: Vec<EntityDef>,
    /// Forms that collect slots, started by intents that name them.
    #[serde(default)]
    pub forms: Vec<FormDef>,
    /// What to say when no intent is confident enough.
    pub fallback: FallbackDef,
    /// Messages shown when a visit starts.
    pub greeting: GreetingDef,
    /// How visitors reach a person while no escalation server is configured.
    #[serde(default)]
    pub contact: Option<ContactDef>,
    /// Visitor turns an entity that some reply `uses` is remembered after the visitor last
    /// mentioned it, in any message ("my boots leak" … "are they waterproof?"); `None` uses
    /// [`crate::dialogue::DEFAULT_MEMORY_TURNS`].
    #[serde(default)]
    pub memory_turns: Option<u8>,
    /// The dialogue's policy knobs, each optional ([`DialogueSettingsDef`]; `None` keeps every
    /// default of [`DialogueSettings`]).
    #[serde(default)]
    pub dialogue: Option<DialogueSettingsDef>,
    /// What the bot may remember about a visitor beyond their name, and for how long; `None`
    /// remembers nothing else.
    #[serde(default)]
    pub profile: Option<ProfileDef>,
    /// Name of a dense-block source from [`WORD_VECTOR_TABLES`] whose sentence vector joins the
    /// intent classifier's n-gram features: `"minilm-l6-d64"`, the static word-vector table, an
    /// owner opt-in that costs a ~1 MB download (shared by every bot of a site) and a few µs per
    /// message; `"all-minilm-l6-v2"`, the contextual encoder of the accuracy tier (English;
    /// `sottovoce build --encoder` trains with the bot's int8 `.sven` copy of it, which the
    /// widget downloads once, ~10-12 MB gzip, and runs in ~15 ms per message).
    /// Training then needs the table's bytes ([`crate::Bot::train_with_vectors`]); `None` (the
    /// default) trains on n-grams alone.
    #[serde(default)]
    pub word_vectors: Option<String>,
    /// Proactive teasers: when the bot speaks first, beside the launcher, and how often
    /// ([`TriggerDef`]); empty: never.
    #[serde(default)]
    pub triggers: Vec<TriggerDef>,
    /// The satisfaction question at the end of a conversation ([`CsatDef`]); `None`: never asked.
    #[serde(default)]
    pub csat: Option<CsatDef>,
    /// Business facts (opening hours, shipping prices, the return window, a contact address):
    /// name → value, written once and read by any message as the Fluent variable
    /// `$fact_<name>` ([`FACT_VARIABLE_PREFIX`]), so an owner changes a fact in one place
    /// instead of in every reply of every locale. A message that names a fact the definition
    /// lacks is a validation problem. Empty by default.
    // Always serialized: the model file's postcard encoding has no field names to skip by.
    #[serde(default)]
    pub facts: BTreeMap<String, FactValue>,
}

/// The prefix of the Fluent variable that carries a fact: the fact `return_days` is
/// `{ $fact_return_days }` in a message. The prefix keeps facts apart from slot and entity
/// variables (`$order_number`, `$country`) and from `$name`, `$email`, `$phone`.
pub const FACT_VARIABLE_PREFIX: &str = "fact_";

/// The value of one business fact: the same text in every locale (`"30"`, written in JSON as a
/// string or a number) or one text per locale (`{"en": "$75", "es": "75 USD"}`), which must
/// then give every locale of the bot.
#[derive(Debug, Clone, PartialEq)]
pub enum FactValue {
    /// One text for every locale (numbers, e-mail addresses, prices written alike).
    Same(String),
    /// Locale (as listed in `locales`) → text.
    PerLocale(BTreeMap<String, String>),
}

impl FactValue {
    /// The text in `locale`: that locale's, else its language's (`es` for `es-MX`), else
    /// `default_locale`'s; `None` only for a per-locale value with none of those.
    pub fn get(&self, locale: &str, default_locale: &str) -> Option<&str> {
        match self {
            FactValue::Same(text) => Some(text),
            FactValue::PerLocale(map) => {
                let language = locale.split(['-', '_']).next().unwrap_or(locale);
                [locale, language, default_locale].iter().find_map(|l| map.get(*l)).map(String::as_str)
            }
        }
    }
}

/// [`FactValue`] in a model file: the variant's index, then its field.
#[derive(Serialize, Deserialize)]
#[serde(remote = "FactValue")]
enum FactValueBinary {
    Same(String),
    PerLocale(BTreeMap<String, String>),
}

impl Serialize for FactValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            _ if !serializer.is_human_readable() => FactValueBinary::serialize(self, serializer),
            FactValue::Same(text) => serializer.serialize_str(text),
            FactValue::PerLocale(map) => map.serialize(serializer),
        }
    }
}

/// [`FactValue`] as owners write it: a string, a number, or locale → string or number. (No
/// `serde_json::Value` here: this impl is also compiled for the runtime wasm, which reads
/// models through postcard and carries no JSON reader.)
#[derive(Deserialize)]
#[serde(untagged)]
enum FactJson {
    Text(FactText),
    PerLocale(BTreeMap<String, FactText>),
}

/// One text of a fact as written: a string, or a number written as JSON writes it.
#[derive(Deserialize)]
#[serde(untagged)]
enum FactText {
    Text(String),
    Number(f64),
}

impl From<FactText> for String {
    fn from(text: FactText) -> String {
        match text {
            FactText::Text(text) => text,
            FactText::Number(n) => n.to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for FactValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<FactValue, D::Error> {
        if !deserializer.is_human_readable() {
            return FactValueBinary::deserialize(deserializer);
        }
        Ok(match FactJson::deserialize(deserializer)? {
            FactJson::Text(text) => FactValue::Same(text.into()),
            FactJson::PerLocale(map) => FactValue::PerLocale(map.into_iter().map(|(l, t)| (l, t.into())).collect()),
        })
    }
}

/// What the visitor profile may keep: the entities whose values, when the visitor says them,
/// become facts about them (a product they asked about, an order number), each kept `days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDef {
    /// Entity names (built-in, owner-defined or learned slots) whose values are remembered.
    pub remember: Vec<String>,
    /// Days a fact is kept after the visitor last said it; `None` is [`DEFAULT_FACT_DAYS`].
    #[serde(default)]
    pub days: Option<u16>,
}

/// Days a remembered fact is kept when the definition's `profile` sets no `days`.
pub const DEFAULT_FACT_DAYS: u16 = 30;

/// Dense-block sources a definition can name in `word_vectors` ([`crate::nlu::SentenceEncoder`]):
/// (name, FNV-1a 64 hash of the bytes it is read from or made from, as
/// [`crate::nlu::SentenceEncoder::source`] reports it, weight of its block against the n-grams). The bytes ship separately; the core
/// only checks that the source passed is the one named.
///
/// - `minilm-l6-d64`: the static word-vector table the widget ships
///   (`assets/vectors/minilm-l6-d64.svvec`, Apache-2.0, see its NOTICE); weight 0.5, chosen on
///   val ([`crate::nlu::TrainOptions::vector_weight`]).
/// - `all-minilm-l6-v2`: the accuracy tier's contextual sentence encoder, the hash of its
///   `model.safetensors` (`make encoder-weights`; run by `crates/sottovoce-encoder`, natively
///   and in the widget's `sottovoce_encoder.js`, from a bot's `.sven` copy); weight chosen on
///   CLINC150 val (docs/experiments/encoder.md).
pub const WORD_VECTOR_TABLES: &[(&str, u64, f32)] =
    &[("minilm-l6-d64", 0xb2b3_fb90_3e56_8084, 0.5), ("all-minilm-l6-v2", ENCODER_HASH, ENCODER_WEIGHT)];

/// FNV-1a 64 of all-MiniLM-L6-v2's `model.safetensors` (90,868,376 bytes).
const ENCODER_HASH: u64 = 0x5990_d3e2_a5e5_8e90;
/// Weight of the encoder's block (see [`WORD_VECTOR_TABLES`]).
const ENCODER_WEIGHT: f32 = 1.0;

/// The hash of the table `name` in [`WORD_VECTOR_TABLES`], or `None` for a name it does not list.
pub fn word_vector_table_hash(name: &str) -> Option<u64> {
    WORD_VECTOR_TABLES.iter().find(|(n, _, _)| *n == name).map(|&(_, h, _)| h)
}

/// The weight of the block of `name` in [`WORD_VECTOR_TABLES`] (0.5 for a name it does not list).
pub fn word_vector_weight(name: &str) -> f32 {
    WORD_VECTOR_TABLES.iter().find(|(n, _, _)| *n == name).map_or(0.5, |&(_, _, w)| w)
}

/// `name` as [`WORD_VECTOR_TABLES`] lists it, or `None` for a name it does not list.
pub fn word_vector_name(name: &str) -> Option<&'static str> {
    WORD_VECTOR_TABLES.iter().map(|&(n, _, _)| n).find(|n| *n == name)
}

/// The name in [`WORD_VECTOR_TABLES`] of the table whose hash is `hash`, or `None`.
pub fn word_vector_table_name(hash: u64) -> Option<&'static str> {
    WORD_VECTOR_TABLES.iter().find(|&&(_, h, _)| h == hash).map(|&(n, _, _)| n)
}

/// One intent: a name, example utterances per locale, and the response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentDef {
    /// Identifier, `[a-z0-9_]+`, unique in the definition; [`OUT_OF_SCOPE_INTENT`] is reserved.
    pub name: String,
    /// Message id of a short label for "did you mean" buttons (`"Track an order"`).
    #[serde(default)]
    pub title: Option<String>,
    /// Example utterances per locale: locale → utterances.
    pub examples: BTreeMap<String, Vec<String>>,
    /// The reply; may be omitted when the intent starts a form or has an action.
    #[serde(default)]
    pub reply: Option<ReplyDef>,
    /// Name of a form this intent starts.
    #[serde(default)]
    pub form: Option<String>,
    /// A built-in action run before the reply.
    #[serde(default)]
    pub action: Option<Action>,
    /// Entity whose value becomes the visitor's name in the profile (`"person_name"`).
    #[serde(default)]
    pub remember_name: Option<String>,
    /// Inside a form, this intent (recognised at or above the threshold) ends the form and is
    /// answered with its reply, as a request for a person does: "I don't have my order number"
    /// while the order form asks for it. Needs a reply. Default false: other intents inside a
    /// form are side questions (answered, then the form resumes) or bad answers.
    #[serde(default)]
    pub ends_form: bool,
}

/// Built-in actions an intent can trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The visitor wants a person: answer with the contact options (or escalate, when a server is set).
    Handoff,
    /// Cancel the active form, if any.
    CancelForm,
    /// Recommend products: the turn carries the visitor's request
    /// ([`crate::Turn::recommend`]) for the caller to rank its catalog with.
    Recommend,
    /// "What do you remember about me?": the reply, then the turn asks the caller to show what
    /// the chat keeps about the visitor ([`crate::Turn::privacy`] `show`), each fact removable.
    ShowProfile,
    /// "Forget me": the reply, then the turn asks the caller to confirm and delete everything
    /// the chat stored on the device ([`crate::Turn::privacy`] `forget`); nothing is deleted
    /// without the visitor's yes.
    ForgetMe,
}

/// A reply: a message plus optional quick replies and links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyDef {
    /// Message id of the text.
    pub message: String,
    /// Message ids said instead of `message` now and then: each time one of `message` and
    /// these is picked at random (seeded by the conversation state, so a replay is identical),
    /// so an answer asked for twice does not read like a recording.
    #[serde(default)]
    pub variants: Vec<String>,
    /// Buttons offered under the message.
    #[serde(default)]
    pub quick_replies: Vec<QuickReplyDef>,
    /// Links shown under the message.
    #[serde(default)]
    pub links: Vec<LinkDef>,
    /// Message id said instead when the visitor's message is strongly negative (sentiment at
    /// or below [`crate::sentiment::NEGATIVE`]): the same answer, said with empathy.
    #[serde(default)]
    pub empathetic: Option<String>,
    /// Message id said instead of `message` (with the same quick replies and links) when the caller
    /// shows products for this intent's recommendation (the recommend action): the cards answer
    /// "recommend me a tent for two", so "each product page shows live stock…" need not. The
    /// turn carries it as [`crate::Turn::with_products`]; `None` keeps `message` either way.
    #[serde(default)]
    pub with_products: Option<String>,
    /// Entities this reply talks about (`country`, `product`), passed as Fluent variables
    /// (`none` when unknown, for a selector's default). They make the intent part of the
    /// conversation context: a short follow-up carrying one of them ("and to Mexico?")
    /// answers this intent again for the new value, and a later intent whose reply uses the
    /// same entity without the message naming it ("is it waterproof?") takes the value from
    /// the context. See [`crate::dialogue`].
    #[serde(default)]
    pub uses: Vec<String>,
    /// Visitor turns the context set by this reply lasts (default
    /// [`crate::dialogue::DEFAULT_CONTEXT_TURNS`]).
    #[serde(default)]
    pub context_turns: Option<u8>,
}

/// A quick-reply button: a label and either an intent to trigger or text to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickReplyDef {
    /// Message id of the button label.
    pub label: String,
    /// Intent triggered directly when pressed (no classification).
    #[serde(default)]
    pub intent: Option<String>,
}

/// A link: a label and a URL template. `{slot}` placeholders are filled (URL-encoded) from slots.
/// Only `http`, `https`, `mailto` and `tel` URLs are allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkDef {
    /// Message id of the link text.
    pub label: String,
    /// URL template, e.g. `https://shop.example/track/{order_number}`.
    pub url: String,
}

/// An owner-defined entity.
///
/// In JSON it is tagged by a `kind` field (`{"kind": "list", "name": …}`); in a model file
/// (postcard, which is not self-describing and cannot read a tag inside the fields) by the
/// variant's index. Both spellings are derived from private mirrors of this type that serde
/// checks field by field against it (`#[serde(remote)]`), so they cannot drift apart.
#[derive(Debug, Clone, PartialEq)]
pub enum EntityDef {
    /// A regular expression (regex-lite syntax, linear time). With `group`, the value is that
    /// capture group; otherwise the whole match.
    Pattern {
        /// Entity name, `[a-z0-9_]+`.
        name: String,
        /// The regular expression.
        pattern: String,
        /// Capture group holding the value (0 = whole match).
        group: usize,
        /// Normalise the value to upper case (order numbers typed in lower case).
        uppercase: bool,
        /// The value built from the match's capture groups, in regex-lite's replacement syntax
        /// (`$1`, `${name}`, `$$` for a dollar), instead of `group`'s text; `group` still gives
        /// the span. With `"pattern": "(?i)\\bCU[- ]?(\\d{6})\\b"`, `"CU-$1"` reads "cu 654321"
        /// and "CU654321" as `CU-654321`. `uppercase` applies after. `None`: the group's text.
        value: Option<String>,
    },
    /// A closed list of values, each with synonyms, matched as whole words ignoring case and
    /// accents, with one typo (insertion, deletion, substitution or swap of neighbours) allowed
    /// in each word of five letters or more. The entity's value is the matched entry's `value`.
    List {
        /// Entity name, `[a-z0-9_]+`.
        name: String,
        /// The entries.
        values: Vec<ListValueDef>,
        /// Allow the one-typo tolerance (default `true`).
        fuzzy: bool,
    },
}

/// [`EntityDef`] as owners write it: tagged by `kind`, defaults filled in.
#[derive(Serialize, Deserialize)]
#[serde(remote = "EntityDef", tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum EntityDefJson {
    Pattern {
        name: String,
        pattern: String,
        #[serde(default)]
        group: usize,
        #[serde(default)]
        uppercase: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    List {
        name: String,
        values: Vec<ListValueDef>,
        #[serde(default = "default_true")]
        fuzzy: bool,
    },
}

/// [`EntityDef`] in a model file: the variant's index, then every field in order.
#[derive(Serialize, Deserialize)]
#[serde(remote = "EntityDef")]
enum EntityDefBinary {
    Pattern { name: String, pattern: String, group: usize, uppercase: bool, value: Option<String> },
    List { name: String, values: Vec<ListValueDef>, fuzzy: bool },
}

impl Serialize for EntityDef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            EntityDefJson::serialize(self, serializer)
        } else {
            EntityDefBinary::serialize(self, serializer)
        }
    }
}

impl<'de> Deserialize<'de> for EntityDef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<EntityDef, D::Error> {
        if deserializer.is_human_readable() {
            EntityDefJson::deserialize(deserializer)
        } else {
            EntityDefBinary::deserialize(deserializer)
        }
    }
}

/// One entry of a [`EntityDef::List`]: the value reported and the phrases that mean it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListValueDef {
    /// The normalised value (`refund`); it is matched too.
    pub value: String,
    /// Other phrases for it, in any of the bot's languages (`money back`, `reembolso`).
    #[serde(default)]
    pub synonyms: Vec<String>,
}

fn default_true() -> bool {
    true
}

impl EntityDef {
    /// The entity's name.
    pub fn name(&self) -> &str {
        match self {
            EntityDef::Pattern { name, .. } | EntityDef::List { name, .. } => name,
        }
    }
}

/// A form: slots asked one after another, then a closing reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDef {
    /// Identifier, unique among forms.
    pub name: String,
    /// Slots in the order they are asked.
    pub slots: Vec<SlotDef>,
    /// Reply once every slot is filled; its links may use `{slot}` placeholders.
    pub done: ReplyDef,
    /// Message id said when the visitor cancels.
    pub cancelled: String,
    /// Message id said when a slot ran out of tries (contact links are added when the bot has
    /// a `contact`); `cancelled` is said when absent.
    #[serde(default)]
    pub give_up: Option<String>,
    /// Asked once every slot is filled, before `done`: a yes/no question (its Fluent variables
    /// are the slots). Without it the form closes as soon as the last slot is filled.
    #[serde(default)]
    pub confirm: Option<ConfirmDef>,
    /// A request for the caller's product catalog made when the form is done, with `{slot}`
    /// placeholders filled by the slots' values (`"{activity} gear for {who} in {season}"`):
    /// the turn carries it as [`crate::Turn::recommend`], as a recommend intent's does. A
    /// preference quiz is a form with buttons on its prompts and this request.
    #[serde(default)]
    pub recommend: Option<String>,
    /// What the form's slots are once it is done, for the shop (`lead`, `newsletter`,
    /// `back_in_stock`): the turn carries them as [`crate::Turn::submit`], and the widget
    /// shows them and sends them only if the visitor says yes. The form needs an `email` slot
    /// (and a `product` slot for `back_in_stock`).
    #[serde(default)]
    pub submit: Option<crate::protocol::SubmissionKind>,
}

/// A form's confirmation step: the question and the intents that mean yes and no.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmDef {
    /// Message id of the question (`"Return { $item } from { $order_number }?"`).
    pub message: String,
    /// Intent meaning yes (`affirm`): the form closes with its `done` reply.
    pub yes: String,
    /// Intent meaning no (`deny`): the form is cancelled with its `cancelled` message.
    pub no: String,
    /// Message ids of the yes and no button labels.
    pub buttons: [String; 2],
}

/// One slot of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotDef {
    /// Slot name, used in `{placeholders}` and as a Fluent variable.
    pub name: String,
    /// Entity that fills it (`email`, `number` or an owner-defined one).
    pub entity: String,
    /// Message id asking for the value.
    pub prompt: String,
    /// Message id said when the answer is not a valid value (then the prompt is repeated).
    pub invalid: String,
    /// Tries before the form gives up; `None` is the dialogue settings' `slot_tries` (3).
    #[serde(default)]
    pub max_tries: Option<u8>,
    /// Allowed values (normalised entity values, compared ignoring case); empty allows any.
    #[serde(default)]
    pub values: Vec<String>,
    /// A regular expression (regex-lite) the whole value must match, e.g. `^CU-\\d{6}$`.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Fill the slot from what the site told the widget about a logged-in customer
    /// (`identify`) instead of asking, when it can.
    #[serde(default)]
    pub from_site: Option<SiteValue>,
    /// Buttons offered under the prompt (before the cancel button): pressing one sends its
    /// label, which the slot's entity then reads, so each label should name one of its values.
    #[serde(default)]
    pub quick_replies: Vec<QuickReplyDef>,
}

/// What a form slot can take from the site's customer data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteValue {
    /// An order's id: the order whose items the visitor named ("did my jacket ship?"), else
    /// the newest. The form's messages also get `$site_order_status` (the order's status, or
    /// `none` when the value did not come from the site).
    Order,
}

/// The Fluent variable a form with a [`SiteValue::Order`] slot gets: the order's status.
pub const SITE_ORDER_STATUS: &str = "site_order_status";

/// The fallback: said when no intent is confident enough.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackDef {
    /// Message id of the fallback text.
    pub message: String,
    /// Up to this many "did you mean" quick replies (best intents with a `title`).
    #[serde(default = "default_suggestions")]
    pub suggestions: usize,
}

fn default_suggestions() -> usize {
    3
}

/// Greeting messages at the start of a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GreetingDef {
    /// Message id for a new visitor (or one whose name is unknown).
    pub message: String,
    /// Message id for a returning visitor whose name is known; gets `$name`.
    pub returning: String,
    /// Quick replies offered with the greeting.
    #[serde(default)]
    pub quick_replies: Vec<QuickReplyDef>,
    /// Open topics to pick up: a form's name → the message id that greets a returning visitor
    /// whose newest open topic is of that kind ("Last time you started a return for
    /// { $order_number }. Did the label arrive?"). The form's `done` opens the topic (kept the
    /// `profile`'s days; nothing is kept without a `profile`); the message gets the form's slots
    /// as Fluent variables, with `$name` and the others every message gets.
    // Always serialized: the model file's postcard encoding has no field names to skip by.
    #[serde(default)]
    pub topics: BTreeMap<String, String>,
}

/// Contact options, offered by the handoff action while there is no escalation server.
/// Available to every message as Fluent variables `$email`, `$phone`, `$contact_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactDef {
    /// Support e-mail address (rendered as a `mailto:` link).
    #[serde(default)]
    pub email: Option<String>,
    /// Support phone number (rendered as a `tel:` link).
    #[serde(default)]
    pub phone: Option<String>,
    /// Contact page URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Message id of the handoff reply.
    pub message: String,
    /// Message id offering a person, said after a second strongly negative visitor message
    /// (with a button for the handoff intent).
    #[serde(default)]
    pub offer: Option<String>,
}

/// One problem found in a definition, with the JSON path where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path, e.g. `intents[3].examples.es`.
    pub path: String,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a definition could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The text is not valid JSON or does not have the definition's shape.
    #[error("bot definition is not valid JSON of the expected shape (line {line}, column {column}): {message}")]
    Syntax {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// The `format` field names a version this build does not read.
    #[error("bot definition has format {found}, but this sottovoce reads format {expected}")]
    Format {
        /// The version in the file.
        found: u32,
        /// [`DEFINITION_FORMAT`].
        expected: u32,
    },
    /// The definition parsed but is inconsistent; every problem is listed.
    #[error("bot definition has {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl BotDefinition {
    /// Parses a definition from JSON text without validating it: for the definition inside a
    /// compiled model, which `sottovoce build` validated when it trained the model. Validation
    /// needs the extractors and replies above this layer: it is [`crate::domain`]'s
    /// (`BotDefinition::from_json`, `BotDefinition::validate`).
    ///
    /// # Errors
    /// [`DefinitionError::Syntax`] or [`DefinitionError::Format`], as [`BotDefinition::from_json`].
    pub fn parse(text: &str) -> Result<BotDefinition, DefinitionError> {
        // Read the version first, so an old or new file gets the version error rather than a
        // confusing complaint about some field.
        #[derive(Deserialize)]
        struct Head {
            format: Option<u32>,
        }
        let syntax = |e: serde_json::Error| DefinitionError::Syntax {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let head: Head = serde_json::from_str(text).map_err(syntax)?;
        match head.format {
            Some(DEFINITION_FORMAT) => {}
            Some(found) => return Err(DefinitionError::Format { found, expected: DEFINITION_FORMAT }),
            None => {
                return Err(DefinitionError::Invalid(vec![Problem {
                    path: "format".into(),
                    message: format!("missing; add \"format\": {DEFINITION_FORMAT}"),
                }]))
            }
        }
        serde_json::from_str(text).map_err(syntax)
    }

    /// The definition as JSON text, as an owner would write it: optional fields that are unset
    /// (`null`) are left out, so the text matches the JSON Schema and reads back as `self`.
    pub fn to_json(&self) -> String {
        fn drop_nulls(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    map.retain(|_, v| !v.is_null());
                    map.values_mut().for_each(drop_nulls);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
                _ => {}
            }
        }
        let mut value = serde_json::to_value(self).expect("a definition serializes");
        drop_nulls(&mut value);
        value.to_string()
    }

    /// The default locale (the first listed).
    pub fn default_locale(&self) -> &str {
        self.locales.first().map(String::as_str).unwrap_or("en")
    }

    /// Index of an intent by name.
    pub fn intent_index(&self, name: &str) -> Option<usize> {
        self.intents.iter().position(|i| i.name == name)
    }
}

