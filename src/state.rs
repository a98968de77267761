//! The conversation state: a plain serializable value the caller stores (in the browser, in
//! `localStorage`) and hands back on the next turn. The core never stores anything itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The state format version; a stored state of another version is discarded with
/// [`StateError::Version`] and the caller starts a new conversation.
///
/// Versions: 1 stored a form in progress as `tries` and `confirming`, and three memories of
/// what was said (`context.slots`, `mentions`, the form's slots); 2 stores the form's
/// [`FormPhase`], the follow-up [`Topic`] and one [`Memory`]. Fields added since with a serde
/// default (the profile's facts, customer, `locale_chosen`, `locale_pending`, the state's
/// `shopping`, `proactive` and `csat`) keep version 2:
/// an older state reads as having none.
pub const STATE_VERSION: u32 = 2;

/// Transcript entries kept; older ones are dropped first.
pub const MAX_TRANSCRIPT: usize = 500;

/// Everything the bot remembers about one visitor's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    /// [`STATE_VERSION`] when written.
    pub version: u32,
    /// The [`crate::BotDefinition::id`] this state belongs to.
    pub bot_id: String,
    /// Messages in order, oldest first, at most [`MAX_TRANSCRIPT`].
    pub transcript: Vec<TranscriptEntry>,
    /// The form being filled, if any.
    pub form: Option<ActiveForm>,
    /// What is known about the visitor.
    pub profile: Profile,
    /// Pseudo-random state for choosing reply variants; seeded by the caller.
    pub rng: u64,
    /// Fallbacks in a row (reset by any recognised intent).
    pub fallbacks_in_a_row: u32,
    /// The intent a short follow-up inherits ("and to Mexico?"); `None` when expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<Topic>,
    /// Strongly negative visitor messages since a person was last offered.
    #[serde(default)]
    pub negatives: u32,
    /// What the visitor mentioned and what the conversation's answers were about: the one
    /// memory that follow-ups, replies' `uses` and closed forms read and write.
    #[serde(default, skip_serializing_if = "Memory::is_empty")]
    pub memory: Memory,
    /// The last recommendation, for follow-ups about its products ("cheaper?", "compare
    /// them", "what goes with it?"); `None` when there was none or it expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopping: Option<Shopping>,
    /// What the proactive teasers keep between pages: the visit's site events and cart, and
    /// each trigger's showings for its caps ([`crate::Bot::proactive`]).
    #[serde(default, skip_serializing_if = "ProactiveState::is_empty")]
    pub proactive: ProactiveState,
    /// The satisfaction question: the one waiting for an answer, and the ratings given.
    #[serde(default, skip_serializing_if = "CsatState::is_empty")]
    pub csat: CsatState,
}

/// A recommendation the visitor may follow up on (issue 11 item 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shopping {
    /// The intent with the recommend action that answered.
    pub intent: String,
    /// The request as the caller ranks it (`Turn::recommend`): the visitor's words, then each
    /// refinement on a line of its own.
    pub request: String,
    /// The products the caller showed for it, best first, by id (`Bot::shown`).
    #[serde(default)]
    pub shown: Vec<String>,
    /// The values of the owner's list entities its first message named (`sleeping bag`,
    /// `winter`), which [`crate::Turn::recommend_terms`] carries for each refinement too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
    /// The text said instead of the recommendation's first message once products are shown
    /// ([`crate::Turn::with_products`]), until [`crate::Bot::shown`] puts it in the transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_products: Option<String>,
    /// Visitor turns left before it expires ([`SHOPPING_TURNS`] after each recommendation or
    /// follow-up).
    pub turns_left: u8,
}

/// Visitor turns a recommendation can be followed up on.
pub const SHOPPING_TURNS: u8 = 3;

/// The intent of the conversation context, for a number of visitor turns: a short follow-up
/// carrying an entity its reply uses answers it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// The intent's name (or a closed form's).
    pub intent: String,
    /// Visitor turns left before it expires (0: expired at the next turn).
    pub turns_left: u8,
}

/// Entity or slot name → the value remembered, each entry with its own expiry and source.
/// One entry per name: a newer value replaces an older one, the same value keeps the longer
/// expiry.
///
/// Stored as `{"product": {"value": "boots", "turns_left": 4, "source": "mentioned"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Memory {
    entries: BTreeMap<String, MemoryEntry>,
}

/// One remembered value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryEntry {
    /// The normalised value (`boots`), or the text covered for a learned slot.
    pub value: String,
    /// Visitor turns left before it is forgotten (0: forgotten at the next turn).
    pub turns_left: u8,
    /// Where it comes from.
    pub source: MemorySource,
}

/// Where a remembered value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemorySource {
    /// The visitor mentioned it (an entity some reply `uses`); kept for the settings'
    /// `memory_turns`.
    Mentioned,
    /// An answer's context: a value its reply used, or a closed form's slot; kept for the
    /// reply's `context_turns`.
    Context,
}

impl Memory {
    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry for `name`, if remembered.
    pub fn get(&self, name: &str) -> Option<&MemoryEntry> {
        self.entries.get(name)
    }

    /// The value remembered for `name`.
    pub fn recall(&self, name: &str) -> Option<&str> {
        self.get(name).map(|e| e.value.as_str())
    }

    /// The values of the conversation context (source [`MemorySource::Context`]).
    pub fn context(&self) -> BTreeMap<String, String> {
        let mut values = BTreeMap::new();
        for (name, entry) in self.entries.iter().filter(|(_, e)| e.source == MemorySource::Context) {
            values.insert(name.clone(), entry.value.clone());
        }
        values
    }

    /// One visitor turn passes: expired entries are forgotten, the others have a turn less.
    pub fn age(&mut self) {
        self.entries.retain(|_, e| e.turns_left > 0);
        for e in self.entries.values_mut() {
            e.turns_left -= 1;
        }
    }

    /// Remembers `value` for `name` for `turns` visitor turns from `source`: a new value
    /// replaces the old; the same value keeps the longer expiry and becomes context when
    /// either is.
    pub fn remember(&mut self, name: &str, value: &str, turns: u8, source: MemorySource) {
        match self.entries.get_mut(name) {
            Some(e) if e.value == value => {
                e.turns_left = e.turns_left.max(turns);
                if source == MemorySource::Context {
                    e.source = source;
                }
            }
            _ => {
                self.entries.insert(name.to_owned(), MemoryEntry { value: value.to_owned(), turns_left: turns, source });
            }
        }
    }

    /// A new context of `values` for `turns`, adding to the current one: the current
    /// context's values last as long too.
    pub fn extend_context(&mut self, values: &BTreeMap<String, String>, turns: u8) {
        for e in self.entries.values_mut().filter(|e| e.source == MemorySource::Context) {
            e.turns_left = e.turns_left.max(turns);
        }
        for (name, value) in values {
            self.remember(name, value, turns, MemorySource::Context);
        }
    }

    /// Forgets `name`'s entry when its value is `value`; true when there was one.
    pub fn forget(&mut self, name: &str, value: &str) -> bool {
        let held = self.entries.get(name).is_some_and(|e| e.value == value);
        if held {
            self.entries.remove(name);
        }
        held
    }

    /// A new context of `values` for `turns`, replacing the current one (a closed form's
    /// slots): the current context's values stay only as what the visitor mentioned.
    pub fn replace_context(&mut self, values: &BTreeMap<String, String>, turns: u8) {
        for e in self.entries.values_mut() {
            e.source = MemorySource::Mentioned;
        }
        for (name, value) in values {
            self.remember(name, value, turns, MemorySource::Context);
        }
    }
}

/// Who said a transcript entry: the handoff contract's [`crate::protocol::Author`] (`visitor`,
/// `bot`, `agent`), one type for the state, the escalation payload and the server.
pub use crate::protocol::Author as Speaker;

/// One message in the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptEntry {
    /// Who said it.
    pub from: Speaker,
    /// The text, as shown (plain text, never HTML).
    pub text: String,
    /// When, in ms since the Unix epoch (as passed in by the caller).
    pub time_ms: u64,
    /// For visitor messages: the recognised intent (`None` = fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// For visitor messages: the intent's confidence in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// For visitor text messages: the sentiment score in [-1, 1] ([`crate::sentiment`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f32>,
    /// For bot messages: buttons offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick_replies: Vec<crate::replies::QuickReply>,
    /// For bot messages: links offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<crate::replies::Link>,
    /// For visitor messages: true when the fallback answered it (no intent, no form step), so
    /// the stored transcript tells an unanswered question from a slot value or a rating.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
}

impl TranscriptEntry {
    /// A plain message `text` by `from` at `time_ms` (ms since the Unix epoch), without the
    /// bot's annotations (intent, confidence, sentiment) or buttons: a visitor's message to an
    /// agent, or a message read back from the escalation server.
    pub fn plain(from: Speaker, text: &str, time_ms: u64) -> TranscriptEntry {
        TranscriptEntry {
            from,
            text: text.to_owned(),
            time_ms,
            intent: None,
            confidence: None,
            sentiment: None,
            quick_replies: Vec::new(),
            links: Vec::new(),
            fallback: false,
        }
    }
}

/// A form in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveForm {
    /// The form's name.
    pub name: String,
    /// Slots filled so far: slot name → normalised value.
    pub slots: BTreeMap<String, String>,
    /// What the form is waiting for.
    pub phase: FormPhase,
}

/// What a form in progress is waiting for: the answer to one slot's prompt, or yes/no to the
/// confirmation question once every slot is filled. Stored as `{"asking": {"slot": "email",
/// "tries": 1}}` or `"confirming"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormPhase {
    /// The prompt of `slot` (the form's first empty slot when it was asked) is waiting for an
    /// answer.
    Asking {
        /// The slot's name.
        slot: String,
        /// Answers to this prompt so far that were not a valid value; the form gives up at the
        /// slot's `max_tries`.
        tries: u8,
    },
    /// Every slot is filled and the form's confirmation question was asked.
    Confirming,
}

/// What the bot knows about the visitor. Only what the visitor said or the page passed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The visitor's name, when they said it.
    pub name: Option<String>,
    /// The locale replies are in (one of the bot's locales).
    pub locale: String,
    /// Visits so far, counting the current one; a new visit starts after 30 minutes away (the
    /// bot's `dialogue.new_visit_after_min`).
    pub visits: u32,
    /// First visit, ms since the Unix epoch.
    pub first_seen_ms: u64,
    /// Latest activity, ms since the Unix epoch.
    pub last_seen_ms: u64,
    /// Other things the visitor told the bot that the definition's `profile` lets it keep,
    /// oldest first, each until it expires; the visitor can see and remove each one.
    #[serde(default)]
    pub facts: Vec<Fact>,
    /// The logged-in customer as the site described them (`identify`), if it did.
    #[serde(default)]
    pub customer: Option<Customer>,
    /// True once the visitor chose [`Profile::locale`] themselves (asked for a language, pressed
    /// a language button, or the widget's language menu: `Bot::set_locale`): the replies then
    /// no longer follow the language of their messages until they ask for another.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub locale_chosen: bool,
    /// The language the previous message was clearly in when it was not [`Profile::locale`]:
    /// one of the bot's locales waiting for a second message in a row before the replies
    /// switch to it, or a language the bot lacks whose offer of the bot's languages was made.
    /// `None` after a message in the reply locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale_pending: Option<String>,
    /// Things left open in earlier conversations (a return started, an order being tracked),
    /// oldest first, at most one per kind, each until it expires; a returning visitor is
    /// greeted with the newest one the definition's `greeting.topics` has a message for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<OpenTopic>,
    /// What the visitor taught the bot on this device, oldest first, at most [`MAX_TAUGHT`]:
    /// a "did you mean" suggestion they picked, or a thumbs up or down on an answer. Later
    /// messages like one of them lean toward (or away from) its intent, within a bound; each can
    /// be seen and forgotten like a fact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taught: Vec<Taught>,
}

/// Most [`Taught`] entries kept; the oldest goes first.
pub const MAX_TAUGHT: usize = 50;

/// One thing the visitor taught the bot. Stored as `{"text": "zorblax", "intent": "shipping",
/// "up": true, "source": "pick", "at_ms": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taught {
    /// The visitor's message, normalised ([`crate::text::normalize_into`]: lowercase words,
    /// accents folded), as compared with later messages.
    pub text: String,
    /// The intent it is about.
    pub intent: String,
    /// True: this message meant `intent` (a pick, a thumbs up); false: it did not (thumbs down).
    pub up: bool,
    /// `pick` (a "did you mean" suggestion pressed) or `thumbs`.
    pub source: String,
    /// When, ms since the Unix epoch.
    pub at_ms: u64,
}

/// Something left open with the visitor, to pick up on their next visit: a return started in
/// chat for order CU-318274, an order being tracked.
///
/// Stored as `{"kind": "return_item", "values": {"order_number": "CU-318274", "item": "boots"},
/// "source": "chat", "at_ms": …, "expires_ms": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenTopic {
    /// What is open: the name of the form that opened it (`return_item`, `track_order`), one of
    /// the keys of the definition's `greeting.topics`.
    pub kind: String,
    /// Its details (a closed form's slots): Fluent variables of the greeting that picks it up.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Where it came from.
    pub source: FactSource,
    /// When it was opened, ms since the Unix epoch.
    pub at_ms: u64,
    /// When it is forgotten, ms since the Unix epoch.
    pub expires_ms: u64,
}

/// A logged-in customer as the site knows them, passed in by the page (never sent anywhere
/// but inside a consented escalation, and then only the fields the owner allows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The site's customer id.
    pub id: String,
    /// Their name.
    #[serde(default)]
    pub name: Option<String>,
    /// Their e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Their preferred language (BCP 47).
    #[serde(default)]
    pub locale: Option<String>,
    /// Free traits (`tier` = `gold`).
    #[serde(default)]
    pub traits: BTreeMap<String, String>,
    /// Their orders.
    #[serde(default)]
    pub orders: Vec<Order>,
    /// The site's voucher for `id`: HMAC-SHA256 of the id under the escalation server's
    /// identity secret, in lower-case hex, computed by the site's own server. The core only
    /// carries it into a consented escalation (when the owner allows `customer_id`); the
    /// escalation server checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
}

/// One of a [`Customer`]'s orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The order id as the visitor would type it (`CU-482913`).
    pub id: String,
    /// Its status in the site's words (`shipped`, `out for delivery`).
    pub status: String,
    /// When it was placed (ISO 8601, so later dates sort later).
    #[serde(default)]
    pub placed_at: Option<String>,
    /// The names of its items.
    #[serde(default)]
    pub items: Vec<String>,
    /// Its tracking page.
    #[serde(default)]
    pub tracking_url: Option<String>,
}

impl Customer {
    /// The order whose items name one of `products` (case-insensitive, either name inside
    /// the other), else the newest by `placed_at` (the first listed when none has a date).
    pub fn order_for(&self, products: &[&str]) -> Option<&Order> {
        let lower = crate::text::to_lowercase;
        let named = self.orders.iter().find(|o| {
            o.items.iter().any(|item| {
                let item = lower(item);
                products.iter().map(|p| lower(p)).any(|p| !p.is_empty() && (item.contains(&p) || p.contains(&item)))
            })
        });
        named.or_else(|| {
            self.orders.iter().enumerate().max_by(|(i, a), (j, b)| a.placed_at.cmp(&b.placed_at).then(j.cmp(i))).map(|(_, o)| o)
        })
    }
}

/// Where a [`Fact`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactSource {
    /// The visitor said it in the chat.
    Chat,
    /// The site passed it in (a logged-in customer's data).
    Site,
    /// The bot inferred it.
    Inferred,
}

/// One thing the bot remembers about the visitor: an entity's value (`product` = `boots`,
/// `order_number` = `CU-482913`), where it came from, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// The entity it is a value of.
    pub entity: String,
    /// The value, as the entity normalised it.
    pub value: String,
    /// Where it came from.
    pub source: FactSource,
    /// When it was last said, ms since the Unix epoch.
    pub at_ms: u64,
    /// When it is forgotten, ms since the Unix epoch.
    pub expires_ms: u64,
}

impl Profile {
    /// Records `fact`, replacing an earlier one with the same entity and value (its time and
    /// expiry move on; it becomes the newest).
    pub fn remember(&mut self, fact: Fact) {
        self.facts.retain(|f| !(f.entity == fact.entity && f.value == fact.value));
        self.facts.push(fact);
    }

    /// Records `topic`, replacing an earlier one of the same kind (it becomes the newest).
    pub fn open_topic(&mut self, topic: OpenTopic) {
        self.topics.retain(|t| t.kind != topic.kind);
        self.topics.push(topic);
    }

    /// Forgets facts and topics that have expired at `now_ms`.
    pub fn expire(&mut self, now_ms: u64) {
        self.facts.retain(|f| f.expires_ms > now_ms);
        self.topics.retain(|t| t.expires_ms > now_ms);
    }

    /// Forgets one thing the visitor asked to remove: the name when `entity` is `"name"`, the
    /// site's customer record when it is `"customer"`, the language they chose when it is
    /// `"language"` (the replies stay in it until their messages say otherwise, as for a
    /// language never chosen), the open topic of kind `value` when it is `"topic"`, what was
    /// taught about the message `value` when it is `"taught"`, else the fact with this entity
    /// and value, and every open topic that holds it as `entity` (the tracking a finished form
    /// left for order CU-482913 goes with the order number: its greeting would name it).
    /// Returns true when something was forgotten.
    pub fn forget(&mut self, entity: &str, value: &str) -> bool {
        match entity {
            "name" => return self.name.take().is_some(),
            "language" => {
                self.locale_pending = None;
                return std::mem::take(&mut self.locale_chosen);
            }
            "customer" => return self.customer.take().is_some(),
            "topic" => {
                let before = self.topics.len();
                self.topics.retain(|t| t.kind != value);
                return self.topics.len() != before;
            }
            "taught" => {
                let before = self.taught.len();
                self.taught.retain(|t| t.text != value);
                return self.taught.len() != before;
            }
            _ => {}
        }
        let before = (self.facts.len(), self.topics.len());
        self.facts.retain(|f| !(f.entity == entity && f.value == value));
        self.topics.retain(|t| t.values.get(entity).is_none_or(|v| v != value));
        (self.facts.len(), self.topics.len()) != before
    }
}

/// The fact entity that records the visitor's "no tips" (value [`NO_TIPS_VALUE`]): a
/// preference kept as a fact, so What I remember shows it and forgetting it brings tips back.
pub const NO_TIPS_FACT: &str = "no_tips";

/// The value of the [`NO_TIPS_FACT`] fact.
pub const NO_TIPS_VALUE: &str = "yes";

/// Proactive teasers' memory between pages. Stored as `{"visit_start_ms": …, "last_ms": …,
/// "events": ["add_to_cart"], "cart": 2, "shown": [{"trigger": "cart-idle", …}]}`; absent
/// until a page reports its first event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProactiveState {
    /// When the current visit's first page event came, ms since the Unix epoch.
    #[serde(default)]
    pub visit_start_ms: u64,
    /// The latest page event, ms since the Unix epoch: a gap longer than the dialogue's
    /// `new_visit_after_min` starts a new visit.
    #[serde(default)]
    pub last_ms: u64,
    /// The `track()` events reported during this visit, each once, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Items in the cart: `add_to_cart` adds one, `purchase` empties it.
    #[serde(default)]
    pub cart: u32,
    /// True once the visitor dismissed a teaser this visit: no other is shown until the next.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dismissed: bool,
    /// Each trigger's showings, for its caps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shown: Vec<Shown>,
}

impl ProactiveState {
    /// True before any page event.
    pub fn is_empty(&self) -> bool {
        *self == ProactiveState::default()
    }
}

/// How often one trigger was shown: in the visit that started at `visit_start_ms`, on the
/// visitor's day `day` (days since 1970-01-01 in their time zone), and in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    /// The trigger's id.
    pub trigger: String,
    /// The visit of `in_visit` ([`ProactiveState::visit_start_ms`]).
    pub visit_start_ms: u64,
    /// Showings in that visit.
    pub in_visit: u32,
    /// The day of `in_day`.
    pub day: u64,
    /// Showings on that day.
    pub in_day: u32,
    /// Showings in all.
    pub ever: u32,
}

/// Ratings kept at most; the oldest goes first.
pub const MAX_CSAT_RATINGS: usize = 20;

/// The satisfaction question's state: what it waits for, when it was last asked, the ratings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsatState {
    /// What the visitor's next input may answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<CsatPending>,
    /// The visit ([`Profile::visits`]) it was last asked in; 0 when never.
    #[serde(default)]
    pub asked_visit: u32,
    /// The ratings given, oldest first, at most [`MAX_CSAT_RATINGS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ratings: Vec<CsatRating>,
}

impl CsatState {
    /// True when never asked.
    pub fn is_empty(&self) -> bool {
        *self == CsatState::default()
    }
}

/// What an open satisfaction question waits for. Stored as `{"rating": "chat"}` or `"comment"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsatPending {
    /// A rating from 1 to 5 (a button, or the digit typed), asked after this.
    Rating(CsatAfter),
    /// An optional comment on the newest rating (typed text, or the skip button).
    Comment,
}

/// What a satisfaction question followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsatAfter {
    /// The visitor ended a conversation with the bot (one of the definition's `csat.after`).
    Chat,
    /// An agent resolved the visitor's escalation.
    Agent,
}

/// One satisfaction rating, kept on the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsatRating {
    /// From 1 (poor) to 5 (great).
    pub rating: u8,
    /// The visitor's optional comment, as typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// What it rates.
    pub after: CsatAfter,
    /// The conversation's locale then.
    pub locale: String,
    /// When it was given, ms since the Unix epoch.
    pub at_ms: u64,
}

/// Why a stored state could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The stored text is not a conversation state (corrupt or foreign).
    #[error("stored conversation state is corrupt: {0}")]
    Corrupt(String),
    /// The state was written by another format version.
    #[error("stored conversation state has version {found}, expected {expected}")]
    Version {
        /// The stored version.
        found: u32,
        /// [`STATE_VERSION`].
        expected: u32,
    },
    /// The state belongs to another bot.
    #[error("stored conversation state belongs to bot `{found}`, not `{expected}`")]
    OtherBot {
        /// The stored bot id.
        found: String,
        /// This bot's id.
        expected: String,
    },
}

impl ConversationState {
    /// Forgets one thing the visitor asked to remove ([`Profile::forget`]'s `entity` and
    /// `value`), and the same value from the conversation's memory of what was said, so a fact
    /// removed from "What I remember" is not kept for the next turns either. Returns true when
    /// the profile held it.
    pub fn forget(&mut self, entity: &str, value: &str) -> bool {
        self.memory.forget(entity, value);
        self.profile.forget(entity, value)
    }

    /// Serializes to JSON text for storage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("state serializes")
    }

    /// Parses stored JSON text and checks the version and bot id.
    ///
    /// # Errors
    /// [`StateError::Corrupt`], [`StateError::Version`] or [`StateError::OtherBot`]; the caller
    /// then starts a new conversation (nothing else breaks).
    pub fn from_json(text: &str, bot_id: &str) -> Result<ConversationState, StateError> {
        #[derive(Deserialize)]
        struct Head {
            version: u32,
        }
        let head: Head = serde_json::from_str(text).map_err(|e| StateError::Corrupt(e.to_string()))?;
        ConversationState::check_version(head.version)?;
        let state: ConversationState =
            serde_json::from_str(text).map_err(|e| StateError::Corrupt(e.to_string()))?;
        state.check_bot(bot_id)
    }

    /// The first check of [`ConversationState::from_json`], for a caller that reads the stored
    /// JSON with another serde data format (the browser binding uses serde-wasm-bindgen): the
    /// stored `version` must be [`STATE_VERSION`] before the whole state is read.
    ///
    /// # Errors
    /// [`StateError::Version`].
    pub fn check_version(found: u32) -> Result<(), StateError> {
        match found {
            STATE_VERSION => Ok(()),
            found => Err(StateError::Version { found, expected: STATE_VERSION }),
        }
    }

    /// The last check of [`ConversationState::from_json`]: the state read belongs to `bot_id`.
    ///
    /// # Errors
    /// [`StateError::OtherBot`].
    pub fn check_bot(self, bot_id: &str) -> Result<ConversationState, StateError> {
        if self.bot_id != bot_id {
            return Err(StateError::OtherBot { found: self.bot_id, expected: bot_id.to_owned() });
        }
        Ok(self)
    }

    /// Appends to the transcript, dropping the oldest entries beyond [`MAX_TRANSCRIPT`].
    pub fn push(&mut self, entry: TranscriptEntry) {
        self.transcript.push(entry);
        if self.transcript.len() > MAX_TRANSCRIPT {
            let excess = self.transcript.len() - MAX_TRANSCRIPT;
            self.transcript.drain(..excess);
        }
    }

    /// Next pseudo-random number (SplitMix64), advancing the seeded state.
    pub fn next_random(&mut self) -> u64 {
        let mut rng = crate::text::SplitMix64(self.rng);
        let next = rng.next_u64();
        self.rng = rng.0;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ConversationState {
        ConversationState {
            version: STATE_VERSION,
            bot_id: "shop".into(),
            transcript: vec![TranscriptEntry {
                from: Speaker::Visitor,
                text: "¿dónde está mi pedido? <b>".into(),
                time_ms: 1_780_000_000_000,
                intent: Some("order_status".into()),
                confidence: Some(0.875),
                sentiment: Some(-0.25),
                quick_replies: Vec::new(),
                links: Vec::new(),
                fallback: false,
            }],
            form: Some(ActiveForm {
                name: "track_order".into(),
                slots: [("email".to_owned(), "ana@example.com".to_owned())].into_iter().collect(),
                phase: FormPhase::Asking { slot: "order_number".into(), tries: 1 },
            }),
            profile: Profile {
                name: Some("Ana".into()),
                locale: "es".into(),
                visits: 3,
                first_seen_ms: 1_770_000_000_000,
                last_seen_ms: 1_780_000_000_000,
                facts: vec![Fact {
                    entity: "product".into(),
                    value: "boots".into(),
                    source: FactSource::Chat,
                    at_ms: 1_780_000_000_000,
                    expires_ms: 1_782_592_000_000,
                }],
                customer: None,
                locale_chosen: false,
                locale_pending: None,
                topics: Vec::new(),
                taught: Vec::new(),
            },
            rng: u64::MAX - 7,
            fallbacks_in_a_row: 1,
            topic: Some(Topic { intent: "shipping_times".into(), turns_left: 2 }),
            negatives: 1,
            memory: {
                let mut memory = Memory::default();
                memory.remember("country", "canada", 2, MemorySource::Context);
                memory.remember("product", "boots", 4, MemorySource::Mentioned);
                memory
            },
            shopping: Some(Shopping {
                intent: "product_availability".into(),
                request: "botas de mujer\n¿más baratas?".into(),
                shown: vec!["cu-boot-ridge-w".into()],
                terms: vec!["boots".into()],
                with_products: None,
                turns_left: 2,
            }),
            proactive: ProactiveState { cart: 1, events: vec!["add_to_cart".into()], ..Default::default() },
            csat: CsatState {
                pending: Some(CsatPending::Comment),
                asked_visit: 3,
                ratings: vec![CsatRating { rating: 4, comment: None, after: CsatAfter::Chat, locale: "es".into(), at_ms: 1 }],
            },
        }
    }

    #[test]
    fn a_forgotten_fact_leaves_the_conversation_memory_too() {
        // Found by the widget's profile test (2026-12-07): the order number forgotten in "What
        // I remember" stayed in the memory a finished tracking form left, and was stored.
        let mut s = state();
        s.profile.remember(Fact { entity: "order_number".into(), value: "CU-482913".into(), source: FactSource::Chat, at_ms: 1, expires_ms: u64::MAX });
        s.memory.remember("order_number", "CU-482913", 3, MemorySource::Context);
        s.memory.remember("product", "boots", 3, MemorySource::Mentioned);
        // And in the open topic the form left (the relabelled demo's profile test, 2026-12-07).
        let values = BTreeMap::from([("order_number".to_owned(), "CU-482913".to_owned())]);
        s.profile.open_topic(OpenTopic { kind: "track_order".into(), values, source: FactSource::Chat, at_ms: 1, expires_ms: u64::MAX });
        let kept = BTreeMap::from([("order_number".to_owned(), "CU-111111".to_owned())]);
        s.profile.open_topic(OpenTopic { kind: "return_item".into(), values: kept, source: FactSource::Chat, at_ms: 1, expires_ms: u64::MAX });
        assert!(s.forget("order_number", "CU-482913"));
        assert_eq!(s.profile.topics.iter().map(|t| t.kind.as_str()).collect::<Vec<_>>(), ["return_item"], "a topic with another order stays");
        assert_eq!(s.memory.recall("order_number"), None);
        assert_eq!(s.memory.recall("product"), Some("boots"), "other values stay");
        assert!(!s.to_json().contains("CU-482913"), "nothing of it is stored");
        assert!(!s.forget("order_number", "CU-482913"));
    }

    #[test]
    fn a_chosen_language_can_be_forgotten_and_the_replies_follow_the_visitor_again() {
        let mut s = state();
        s.profile.locale_chosen = true;
        s.profile.locale_pending = Some("fr".into());
        assert!(s.profile.forget("language", "es"));
        assert_eq!((s.profile.locale.as_str(), s.profile.locale_chosen, s.profile.locale_pending.as_deref()), ("es", false, None));
        assert!(!s.profile.forget("language", "es"), "nothing left to forget");
    }

    #[test]
    fn round_trips_through_json() {
        let s = state();
        assert_eq!(ConversationState::from_json(&s.to_json(), "shop").unwrap(), s);
    }

    #[test]
    fn a_state_stored_before_teasers_and_csat_reads_as_having_neither() {
        let mut s = state();
        s.proactive = ProactiveState::default();
        s.csat = CsatState::default();
        let json = s.to_json();
        assert!(!json.contains("proactive") && !json.contains("csat"), "{json}");
        assert_eq!(ConversationState::from_json(&json, "shop").unwrap(), s);
    }

    #[test]
    fn rejects_corrupt_other_version_and_other_bot() {
        let json = state().to_json();
        assert!(matches!(ConversationState::from_json(&json[..json.len() / 2], "shop"), Err(StateError::Corrupt(_))));
        assert!(matches!(ConversationState::from_json("null", "shop"), Err(StateError::Corrupt(_))));
        let other_version = json.replacen("\"version\":2", "\"version\":3", 1);
        assert!(matches!(
            ConversationState::from_json(&other_version, "shop"),
            Err(StateError::Version { found: 3, expected: STATE_VERSION })
        ));
        match ConversationState::from_json(&json, "another-shop") {
            Err(StateError::OtherBot { found, expected }) => assert_eq!((found.as_str(), expected.as_str()), ("shop", "another-shop")),
            other => panic!("expected OtherBot, got {other:?}"),
        }
    }

    #[test]
    fn a_version_1_state_is_rejected_by_its_version() {
        // Version 1's layout: a form in progress as `tries` and `confirming`.
        let v1 = r#"{"version":1,"bot_id":"shop","transcript":[],
            "form":{"name":"track_order","slots":{"email":"ana@example.com"},"tries":1,"confirming":true},
            "profile":{"name":null,"locale":"en","visits":1,"first_seen_ms":0,"last_seen_ms":0},
            "rng":1,"fallbacks_in_a_row":0,
            "context":{"intent":"shipping_times","slots":{"country":"canada"},"turns_left":2},
            "mentions":{"product":{"value":"boots","turns_left":4}}}"#;
        assert!(matches!(
            ConversationState::from_json(v1, "shop"),
            Err(StateError::Version { found: 1, expected: STATE_VERSION })
        ));
    }

    #[test]
    fn memory_keeps_one_entry_per_name_each_with_its_expiry() {
        let mut m = Memory::default();
        m.remember("product", "boots", 5, MemorySource::Mentioned);
        m.extend_context(&[("product".to_owned(), "boots".to_owned())].into_iter().collect(), 3);
        assert_eq!(m.get("product"), Some(&MemoryEntry { value: "boots".into(), turns_left: 5, source: MemorySource::Context }));
        m.remember("product", "tent", 5, MemorySource::Mentioned);
        assert_eq!((m.recall("product"), m.context().len()), (Some("tent"), 0), "a newer value replaces the old");
        m.extend_context(&[("country".to_owned(), "canada".to_owned())].into_iter().collect(), 1);
        m.age();
        m.age();
        assert_eq!((m.recall("country"), m.recall("product")), (None, Some("tent")));
        m.replace_context(&[("order_number".to_owned(), "CU-1".to_owned())].into_iter().collect(), 3);
        assert_eq!(m.context().into_iter().collect::<Vec<_>>(), [("order_number".to_owned(), "CU-1".to_owned())]);
        assert_eq!(m.recall("product"), Some("tent"), "still mentioned");
        assert_eq!(
            serde_json::to_string(&m.get("order_number")).unwrap(),
            r#"{"value":"CU-1","turns_left":3,"source":"context"}"#
        );
    }

    #[test]
    fn form_phases_serialize_by_name() {
        let asking = FormPhase::Asking { slot: "email".into(), tries: 1 };
        assert_eq!(serde_json::to_string(&asking).unwrap(), r#"{"asking":{"slot":"email","tries":1}}"#);
        assert_eq!(serde_json::to_string(&FormPhase::Confirming).unwrap(), r#""confirming""#);
    }

    #[test]
    fn transcript_keeps_the_newest_entries() {
        let mut s = state();
        let first = s.transcript[0].clone();
        for i in 0..MAX_TRANSCRIPT + 10 {
            s.push(TranscriptEntry { text: format!("m{i}"), ..first.clone() });
        }
        assert_eq!(s.transcript.len(), MAX_TRANSCRIPT);
        assert_eq!(s.transcript.last().unwrap().text, format!("m{}", MAX_TRANSCRIPT + 9));
        assert_eq!(s.transcript[0].text, "m10");
    }

    #[test]
    fn random_numbers_follow_the_seed() {
        let (mut a, mut b) = (state(), state());
        let xs: Vec<u64> = (0..4).map(|_| a.next_random()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_random()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
    }
}
