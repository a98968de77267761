//! Browser binding of sottovoce: translates between JavaScript values and the core, and keeps
//! the conversation state in `localStorage`. No chatbot logic lives here.
//!
//! One class, [`Chat`], wraps a [`sottovoce::Bot`] and one visitor's
//! [`sottovoce::ConversationState`]. Values cross the boundary through serde-wasm-bindgen
//! (options and policies in, turns, transcripts and escalations out) as plain objects with
//! `null` for missing values, so the shapes are those of the core's JSON (documented as
//! TypeScript below); `localStorage` goes through gloo-storage ([`storage`]). Exported
//! functions return `Result<T, JsError>`: a bad bot file is an exception with the core's
//! message, while storage trouble never is (the chat falls back to memory).
//!
//! A bot whose owner opted into static word vectors (the definition's `word_vectors`) needs the
//! table's bytes: [`Chat::vectors_needed`] names the table, [`WordVectors`] parses it once, and
//! [`Chat::with_vectors`] takes it; the core decides what the table is used for.

use serde::{Deserialize, Serialize};
use sottovoce::escalation::{self, Escalation, Policy};
use sottovoce::protocol::delivery::Event;
use sottovoce::protocol::{Author, ConversationStatus, EscalationCreated, Message};
use sottovoce::{SentenceEncoder, StaticVectors};
use sottovoce::{Bot, BotMessage, ConversationState, Input, NluResult, PageEvent, Speaker, TranscriptEntry, Turn, TurnContext};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Where the conversation is kept: `localStorage` or memory.
mod storage;

use storage::Store;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `new Chat(bytes, options)` and `Chat.withVectors`. Every field is optional. */
export interface ChatOptions {
  /** The visitor's language as a BCP 47 tag (`navigator.language`); the closest bot locale is used. Default: the bot's first locale. */
  locale?: string;
  /** `localStorage` key of the conversation. Default: `sottovoce:v1:<bot id>`. */
  storageKey?: string;
  /** `false` keeps the conversation in memory only. Default: `true`. */
  persist?: boolean;
  /** Current time in ms since the Unix epoch. Default: `Date.now()`. */
  now?: number;
  /** Seed for reply variation (an integer below 2^53). Default: random. */
  seed?: number;
}

/** A button under a bot message. Without `intent` its label is sent as text. With `locale`
 * (the offer of the bot's languages, labelled with each language's own name) pressing it
 * selects that locale: pass it as `choose`'s last argument. */
export interface QuickReply { label: string; intent?: string; locale?: string }

/** A link under a bot message; `url` is always http:, https:, mailto: or tel:. */
export interface Link { label: string; url: string }

/** One message from the bot, plain text (never HTML). `id` is the definition's message id. */
export interface BotMessage { id: string; text: string; quick_replies?: QuickReply[]; links?: Link[] }

/** An entity found in a message; `start`/`end` are offsets in characters, end exclusive. */
export interface Entity { entity: string; value: string; raw: string; start: number; end: number }

/** An intent and its confidence in [0, 1]. */
export interface RankedIntent { intent: string; confidence: number }

/** The answer to one visitor input. */
export interface Turn {
  /** The bot's messages, in order. */
  messages: BotMessage[];
  /** The intent acted on, or null for the fallback. */
  intent: string | null;
  /** Confidence of the best intent in [0, 1]; null when a quick reply named its intent. */
  confidence: number | null;
  /** The best intents, best first (at most 5); empty for a quick reply with an intent. */
  ranking: RankedIntent[];
  /** Entities found in the text. */
  entities: Entity[];
  /** The locale the text appears to be in; null for a quick reply with an intent. */
  locale: string | null;
  /** True when the visitor asked for a person (the contact options are in `messages`). */
  handoff: boolean;
  /** The visitor's request when an intent with the `recommend` action ran (products from the site's catalog go after `messages`); null otherwise. A refinement ("cheaper?") adds a line to the request it refines. */
  recommend: string | null;
  /** With `recommend`: the values of the bot's list entities the request named (`sleeping bag`, `winter`), for the catalog's `RankContext.terms`; empty otherwise. */
  recommend_terms: string[];
  /** With `recommend`: the message to show instead of `messages[0]` when the page shows products for the request (the reply's `with_products`, with the same buttons and links); `Chat.shown` then puts it in the transcript. Null when the reply has none. */
  with_products: BotMessage | null;
  /** A follow-up about the products shown last (`Chat.shown`): `refine` (rank `recommend`, with `products` as the context's `shown`), `compare` (the two `products` side by side), `price` (the prices of every one of `products`: a comparison of one to three) or `related` (what goes with the one in `products`); null otherwise. */
  products: { kind: "refine" | "compare" | "price" | "related"; products: string[] } | null;
  /** A form with `submit` was just finished: what it would send to the shop. Show `fields` to the visitor and send `{id, kind, locale, fields}` to `POST /api/submissions` only if they say yes; null otherwise. */
  submit: { kind: "lead" | "newsletter" | "back_in_stock"; fields: Record<string, string> } | null;
  /** An intent with the `show_profile` or `forget_me` action ran: `"show"` asks the page to show what the chat remembers (`Chat.profile`), each fact removable; `"forget"` to ask the visitor to confirm, then `Chat.forgetMe`. Null otherwise. */
  privacy: "show" | "forget" | null;
}

/** What the NLU made of a text, without changing the conversation. */
export interface Understanding {
  intent: string | null;
  confidence: number;
  ranking: RankedIntent[];
  entities: Entity[];
  locale: string;
}

/** The language of a text as a turn reads it (`Chat.detectLanguage`). */
export interface LanguageGuess {
  /** The most likely of the bot's locales (BCP 47). */
  locale: string;
  /** Its probability in [0, 1]. */
  confidence: number;
  /** The built-in identifier's guess among ~30 languages (ISO 639-1), before any threshold. */
  language: string | null;
  /** Its confidence in [0, 1] (0 without a guess). */
  language_confidence: number;
  /** The language the text explicitly asks for ("can we speak French?": "fr"). */
  requested: string | null;
}

/** One transcript entry; `time_ms` is ms since the Unix epoch. */
export interface TranscriptEntry {
  from: "visitor" | "bot" | "agent";
  text: string;
  time_ms: number;
  intent?: string;
  confidence?: number;
  /** Visitor messages: true when the fallback answered it. */
  fallback?: boolean;
  quick_replies?: QuickReply[];
  links?: Link[];
}

/** A conversation's key figures, measured on the device (no text, no ids). */
export interface ConversationKpis {
  locale: string;
  /** How it ended; null before the visitor's first message. */
  outcome: "contained" | "escalated" | "abandoned" | null;
  messages: number;
  fallbacks: number;
  /** "Did you mean" suggestions pressed. */
  picks: number;
  /** Ratings 1 to 5, oldest first. */
  csat: number[];
  intents: Record<string, number>;
  /** Milliseconds from the first visitor message to the first answer. */
  first_answer_ms: number | null;
}

/** What the owner lets leave the browser on escalation. */
export interface EscalationPolicy {
  /** Profile fields to send (`name`, `locale`, `visits`, `first_seen_ms`, `last_seen_ms`, `customer_id`: the customer's id and `user_hash`). Default: name, locale, visits. */
  profile_fields?: string[];
  /** Extra patterns (regex-lite syntax) to redact, besides card numbers. */
  redact?: string[];
}

/** The body of `POST /api/escalations`: exactly what the visitor is shown and agrees to send. */
/** A question the visitor may agree to send to improve the bot (`POST /api/feedback`), redacted: the message the bot fell back on, and for a pick the intent the visitor then chose. */
export interface SharedQuestion { id: string; locale: string; text: string; intent?: string }

export interface EscalationPayload {
  locale: string;
  bot_id: string;
  profile: Record<string, string | number>;
  transcript: { author: "visitor" | "bot"; text: string; at_ms: number; intent?: string; confidence?: number; sentiment?: number }[];
  /** Only when the owner allows `customer_id`: the customer's id and the site's `user_hash` for it. */
  customer?: { id: string; user_hash?: string };
}

/** Where an escalation stands. */
export type EscalationStatus =
  | { state: "queued"; since_ms: number }
  | { state: "sending"; attempt: number; started_ms: number }
  | { state: "sent"; id: string; token: string; sent_ms: number }
  | { state: "failed"; attempts: number; next_retry_ms: number }
  | { state: "resolved"; id: string }
  | { state: "rejected"; attempts: number; http_status: number };

/** A visitor message waiting for delivery to the agent; `rejected` is the HTTP status that refused it for good (it is not resent). */
export interface OutgoingMessage { client_id: string; text: string; at_ms: number; attempts: number; next_retry_ms: number; rejected?: number }

/** What to do after a request's outcome, as the core decides: send now, wait until `at_ms` (ms since the Unix epoch), done, or failed for good with HTTP `status`. */
export type DeliveryStep =
  | { step: "send_now"; attempt: number }
  | { step: "wait_until"; at_ms: number }
  | { step: "done" }
  | { step: "failed"; status: number };

/** The escalation kept with the conversation. */
/** The server's answer to creating, resuming or finding an escalation. */
export interface EscalationCreated { id: string; token: string; status: "open" | "resolved"; created_ms: number }
/** One stored message as the escalation server lists it. */
export interface ServerMessage { id: number; author: "visitor" | "bot" | "agent"; author_name?: string; text: string; created_ms: number; intent?: string; confidence?: number; sentiment?: number }
export interface EscalationView {
  payload: EscalationPayload;
  idempotency_key: string;
  status: EscalationStatus;
  outbox: OutgoingMessage[];
  last_event_id: number;
}

/** Something the visitor said that the bot keeps (the bot definition's `profile` says which entities, and for how many days); times in ms since the Unix epoch. */
export interface Fact { entity: string; value: string; source: "chat" | "site" | "inferred"; at_ms: number; expires_ms: number }

/** A logged-in customer as the site knows them: `sottovoce.identify(customer)`. Kept on the device only; it leaves it only inside a consented escalation, and then only the fields the owner allows. */
export interface Customer {
  id: string;
  name?: string | null;
  email?: string | null;
  locale?: string | null;
  traits?: Record<string, string>;
  orders?: { id: string; status: string; placed_at?: string | null; items?: string[]; tracking_url?: string | null }[];
  /** HMAC-SHA256(escalation server's identity secret, id) in hex, computed by the site's server; sent only inside a consented escalation. */
  user_hash?: string | null;
}

/** What the bot knows about the visitor: only what they said, plus visit counts. */
export interface Profile {
  name: string | null;
  locale: string;
  visits: number;
  first_seen_ms: number;
  last_seen_ms: number;
  facts: Fact[];
  customer: Customer | null;
  /** True once the visitor chose the locale (a request, a language button, `setLocale`). */
  locale_chosen?: boolean;
  /** A language the previous message was clearly in, waiting for a second message. */
  locale_pending?: string;
  /** Things left open (a return started in chat), greeted on the next visit; absent when none. */
  topics?: OpenTopic[];
  /** What the visitor taught the bot on this device ("did you mean" picks, thumbs up or down), oldest first; absent when none. Removable with `forget("taught", text)`. */
  taught?: Taught[];
}

/** One lesson: the visitor's message (`text`, normalised), the intent it is about, whether it meant it (`up`), how it was taught, when (ms since the Unix epoch). */
export interface Taught { text: string; intent: string; up: boolean; source: "pick" | "thumbs"; at_ms: number }

/** What just happened on the page, for `proactive`: time passed, the pointer left through the top (desktop), the visitor came back to the tab, or the site's `track()` event (named in `proactive`'s third argument). */
export type PageEvent = "tick" | "exit_intent" | "tab_return" | "track";

/** The page as the widget sees it; times in ms (integers), `now_ms` since the Unix epoch. */
export interface PageContext {
  /** Path and query (`/checkout.html?step=2`). */
  url: string;
  time_on_page_ms?: number;
  /** Scroll depth in percent, 0–100. */
  scroll_pct?: number;
  /** Since the last pointer move, scroll, click or key. */
  idle_ms?: number;
  typing?: boolean;
  chat_open?: boolean;
  now_ms: number;
  /** Minutes east of UTC, for the visitor's day. */
  utc_offset_min?: number;
}

/** A proactive teaser to show beside the launcher: the trigger's id and its message (with the quick replies shown once it is opened). */
export interface Teaser { trigger: string; message: BotMessage }

/** A satisfaction rating kept on the device: 1 (poor) to 5 (great), the optional comment, what it rated, the locale, when (ms since the Unix epoch). */
export interface CsatRating { rating: number; comment?: string; after: "chat" | "agent"; locale: string; at_ms: number }

/** Something left open with the visitor: `kind` is the form that opened it, `values` its slots; removable with `forget("topic", kind)`. */
export interface OpenTopic { kind: string; values: Record<string, string>; source: "chat" | "site" | "inferred"; at_ms: number; expires_ms: number }
"#;

#[wasm_bindgen]
extern "C" {
    /// `ChatOptions` from JavaScript.
    #[wasm_bindgen(typescript_type = "ChatOptions")]
    pub type ChatOptionsJs;
    /// `BotMessage[]` for JavaScript.
    #[wasm_bindgen(typescript_type = "BotMessage[]")]
    pub type BotMessagesJs;
    /// `Turn` for JavaScript.
    #[wasm_bindgen(typescript_type = "Turn")]
    pub type TurnJs;
    /// `Understanding` for JavaScript.
    #[wasm_bindgen(typescript_type = "Understanding")]
    pub type UnderstandingJs;
    /// `LanguageGuess` for JavaScript.
    #[wasm_bindgen(typescript_type = "LanguageGuess")]
    pub type LanguageGuessJs;
    /// `RankedIntent[]` for JavaScript.
    #[wasm_bindgen(typescript_type = "RankedIntent[]")]
    pub type RankingJs;
    /// `TranscriptEntry[]` for JavaScript.
    #[wasm_bindgen(typescript_type = "TranscriptEntry[]")]
    pub type TranscriptJs;
    /// `ConversationKpis` for JavaScript.
    #[wasm_bindgen(typescript_type = "ConversationKpis")]
    pub type KpisJs;
    /// `Customer` from JavaScript.
    #[wasm_bindgen(typescript_type = "Customer")]
    pub type CustomerJs;
    /// `Profile` for JavaScript.
    #[wasm_bindgen(typescript_type = "Profile")]
    pub type ProfileJs;
    /// `EscalationPolicy` from JavaScript.
    #[wasm_bindgen(typescript_type = "EscalationPolicy | undefined")]
    pub type PolicyJs;
    /// `EscalationPayload` for JavaScript.
    #[wasm_bindgen(typescript_type = "EscalationPayload")]
    pub type PayloadJs;
    /// `SharedQuestion | null` for JavaScript.
    #[wasm_bindgen(typescript_type = "SharedQuestion | null")]
    pub type SharedQuestionJs;
    /// `EscalationCreated` from JavaScript.
    #[wasm_bindgen(typescript_type = "EscalationCreated")]
    pub type EscalationCreatedJs;
    /// `ServerMessage[]` from JavaScript.
    #[wasm_bindgen(typescript_type = "ServerMessage[]")]
    pub type MessagesJs;
    /// `EscalationView | null` for JavaScript.
    #[wasm_bindgen(typescript_type = "EscalationView | null")]
    pub type EscalationJs;
    /// `OutgoingMessage` for JavaScript.
    #[wasm_bindgen(typescript_type = "OutgoingMessage")]
    pub type OutgoingJs;
    /// `DeliveryStep` for JavaScript.
    #[wasm_bindgen(typescript_type = "DeliveryStep")]
    pub type StepJs;
    /// `DeliveryStep | null` for JavaScript.
    #[wasm_bindgen(typescript_type = "DeliveryStep | null")]
    pub type MaybeStepJs;
    /// `PageContext` from JavaScript.
    #[wasm_bindgen(typescript_type = "PageContext")]
    pub type PageContextJs;
    /// `Teaser | null` for JavaScript.
    #[wasm_bindgen(typescript_type = "Teaser | null")]
    pub type TeaserJs;
    /// `BotMessage | null` for JavaScript.
    #[wasm_bindgen(typescript_type = "BotMessage | null")]
    pub type MaybeMessageJs;
    /// `CsatRating[]` for JavaScript.
    #[wasm_bindgen(typescript_type = "CsatRating[]")]
    pub type CsatRatingsJs;
}

/// Installs the panic hook (with the default feature), so a bug shows its message in the
/// console instead of "unreachable executed".
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(feature = "console_error_panic_hook")]
    console_error_panic_hook::set_once();
}

/// `ChatOptions`, as read from JavaScript.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ChatOptions {
    locale: Option<String>,
    storage_key: Option<String>,
    persist: Option<bool>,
    now: Option<f64>,
    seed: Option<f64>,
}

/// A static word-vector table (an `.svvec` file, e.g. the package's
/// `vectors-minilm-l6-d64.svvec`), parsed once and shared by every [`Chat`] given it, or a
/// sentence encoder running in another wasm module ([`WordVectors::from_encoder`]: the
/// accuracy tier's, `sottovoce_encoder.js`).
#[wasm_bindgen]
pub struct WordVectors {
    table: Arc<dyn SentenceEncoder>,
}

#[wasm_bindgen]
impl WordVectors {
    /// Parses the table in `bytes` (~1.2 MB for `minilm-l6-d64`; it then takes ~2-3 MB of wasm
    /// memory).
    ///
    /// # Errors
    /// The core's message when `bytes` is not a readable table (truncated, another format).
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> Result<WordVectors, JsError> {
        Ok(WordVectors { table: Arc::new(StaticVectors::from_bytes(bytes)?) })
    }

    /// A sentence encoder that runs outside this module: `embed(normalized)` returns the
    /// `Float32Array` of `dim` values for a message as the classifier normalised it (the
    /// accuracy tier's `Encoder.embed` from `sottovoce_encoder.js`, ~15 ms per message);
    /// `hash` and `source` (`BigInt`s: its `hash()` and `source()`) identify its weights,
    /// checked against what the model was trained with when a [`Chat`] opens with it. A call
    /// that throws, or returns another length, reads as a message with nothing to embed.
    #[wasm_bindgen(js_name = fromEncoder)]
    pub fn from_encoder(embed: js_sys::Function, hash: u64, source: u64, dim: u32) -> WordVectors {
        let slot = JS_ENCODERS.with(|e| {
            let mut e = e.borrow_mut();
            e.push(embed);
            e.len() - 1
        });
        WordVectors { table: Arc::new(JsEncoder { slot, hash, source, dim: dim as usize }) }
    }
}

thread_local! {
    /// The `embed` functions of [`WordVectors::from_encoder`], kept here because a JavaScript
    /// value is not `Send` and the core's encoders must be: a [`JsEncoder`] holds its index.
    static JS_ENCODERS: std::cell::RefCell<Vec<js_sys::Function>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A sentence encoder in JavaScript ([`WordVectors::from_encoder`]).
struct JsEncoder {
    slot: usize,
    hash: u64,
    source: u64,
    dim: usize,
}

impl SentenceEncoder for JsEncoder {
    fn hash(&self) -> u64 {
        self.hash
    }

    fn source(&self) -> u64 {
        self.source
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed_normalized(&self, normalized: &str, out: &mut [f32]) -> bool {
        let embedded = JS_ENCODERS.with(|e| {
            let f = e.borrow().get(self.slot).cloned()?;
            let value = f.call1(&JsValue::NULL, &JsValue::from_str(normalized)).ok()?;
            let array = value.dyn_into::<js_sys::Float32Array>().ok()?;
            (array.length() as usize == out.len()).then(|| array.copy_to(out))
        });
        if embedded.is_none() {
            out.fill(0.0);
            return false;
        }
        out.iter().any(|&v| v != 0.0)
    }
}

/// One visitor's conversation with one bot, saved after every change.
#[wasm_bindgen]
pub struct Chat {
    bot: Bot,
    state: ConversationState,
    store: Store,
    locale_hint: String,
    from_model: bool,
    escalation: Option<Escalation>,
    /// When a page event last saved the state (ms since the Unix epoch): see `proactive`.
    proactive_saved_ms: u64,
    /// True after "Forget me" until the next greeting or turn: page events then save nothing,
    /// as the visitor was promised.
    forgotten: bool,
}

/// A page event that changes nothing but the time of the latest one saves the state at most
/// this often: the widget ticks every 5 s, and a write of the whole conversation each time
/// would be 12 a minute for a clock a new visit needs only to the half hour.
const PROACTIVE_SAVE_EVERY_MS: u64 = 60_000;

#[wasm_bindgen]
impl Chat {
    /// Loads a bot from `bytes` and resumes the visitor's stored conversation, or starts a new
    /// one. `bytes` is a model file from `sottovoce build`; the full build (`sottovoce/full`)
    /// also takes definition JSON and trains it here, while the runtime build (`sottovoce`)
    /// refuses it with a message naming the full build. A bot that asks for a word-vector table
    /// ([`Chat::vectors_needed`]) is loaded with [`Chat::with_vectors`].
    ///
    /// # Errors
    /// The core's message when the bytes are neither a readable model nor a valid definition
    /// (or need a word-vector table), or when `options` is not an object of the `ChatOptions`
    /// shape. A missing, corrupt or unusable stored conversation is not an error: the chat
    /// starts afresh.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8], options: Option<ChatOptionsJs>) -> Result<Chat, JsError> {
        Chat::open(bytes, options, None)
    }

    /// As `new Chat(bytes, options)`, for a bot whose owner opted into the word-vector table
    /// `vectors` (the definition's `word_vectors`); a bot that did not ignores it.
    ///
    /// # Errors
    /// As the constructor; also when the bot asks for another table.
    #[wasm_bindgen(js_name = withVectors)]
    pub fn with_vectors(bytes: &[u8], vectors: &WordVectors, options: Option<ChatOptionsJs>) -> Result<Chat, JsError> {
        Chat::open(bytes, options, Some(&vectors.table))
    }

    /// The name of the word-vector table the bot in `bytes` needs (`"minilm-l6-d64"`, served as
    /// `vectors-<name>.svvec` beside the wasm), or `undefined` when it needs none. For a model
    /// this decodes it, so call it after the constructor refused the bot: a bot that needs no
    /// table loads at once.
    #[wasm_bindgen(js_name = vectorsNeeded)]
    pub fn vectors_needed(bytes: &[u8]) -> Option<String> {
        // Only names the core lists, so the name is safe to put in a URL.
        Bot::vectors_needed(bytes).map(str::to_owned)
    }

    /// The hash (16 hex digits, FNV-1a 64) of the exact table or encoder file the model in
    /// `bytes` was trained with, or `undefined` when it needs none: the widget keys the
    /// encoder's copy in the Cache API by it, so a rebuilt bot never reads a stale copy.
    #[wasm_bindgen(js_name = vectorsHash)]
    pub fn vectors_hash(bytes: &[u8]) -> Option<String> {
        Bot::vectors_hash(bytes).map(|h| format!("{h:016x}"))
    }

    /// Starts (or continues) a visit at `now` (ms since the Unix epoch) and returns the
    /// greeting: for a new conversation, or a returning visitor (by name when known); none when
    /// the visitor is mid-conversation.
    ///
    /// # Errors
    /// Only if the messages cannot be converted (a bug).
    pub fn begin(&mut self, now: f64) -> Result<BotMessagesJs, JsError> {
        let messages = self.bot.begin_visit(&mut self.state, to_ms(now));
        self.forgotten = false;
        self.store.save(&self.state);
        to_js(&messages)
    }

    /// Answers the visitor's typed `text` at `now` (ms since the Unix epoch) for a visitor
    /// `utc_offset_min` minutes east of UTC (`-new Date().getTimezoneOffset()`; when omitted,
    /// the browser's own offset at `now`), against which "tomorrow" and "on Friday" resolve.
    ///
    /// # Errors
    /// Only if the turn cannot be converted (a bug).
    pub fn send(&mut self, text: String, now: f64, utc_offset_min: Option<i32>) -> Result<TurnJs, JsError> {
        let at = turn_context(now, utc_offset_min);
        let turn = self.bot.respond(&mut self.state, Input::Text { text }, at);
        self.finish(turn)
    }

    /// Answers a quick-reply button: `label` as shown, and the `intent` it names (without
    /// one, the label is understood like typed text), or the `locale` it selects (a button of
    /// the offer of the bot's languages: the turn is the greeting in that locale).
    ///
    /// # Errors
    /// Only if the turn cannot be converted (a bug).
    pub fn choose(
        &mut self,
        label: String,
        intent: Option<String>,
        now: f64,
        utc_offset_min: Option<i32>,
        locale: Option<String>,
    ) -> Result<TurnJs, JsError> {
        let at = turn_context(now, utc_offset_min);
        let turn = self.bot.respond(&mut self.state, Input::QuickReply { label, intent, locale }, at);
        self.finish(turn)
    }

    /// The visitor picks the reply locale (the widget's language menu): `code` is one of
    /// `locales()` (case-insensitive) or its language alone (`pt` for `pt-BR`). Returns the
    /// locale set, which `locale()` then returns too; the replies stay in it until the visitor
    /// asks for another language. Saved at once.
    ///
    /// # Errors
    /// A locale the bot lacks (the core's `LocaleError`, naming the bot's locales); nothing
    /// changes.
    #[wasm_bindgen(js_name = setLocale)]
    pub fn set_locale(&mut self, code: &str) -> Result<String, JsError> {
        let locale = self.bot.set_locale(&mut self.state, code)?;
        self.store.save(&self.state);
        Ok(locale)
    }

    /// The bot's locales (BCP 47), the default first: what `setLocale` accepts.
    pub fn locales(&self) -> Vec<String> {
        self.bot.definition().locales.clone()
    }

    /// Classifies `text` without touching the conversation (for benchmarks and tooling).
    ///
    /// # Errors
    /// Only if the result cannot be converted (a bug).
    pub fn understand(&self, text: &str) -> Result<UnderstandingJs, JsError> {
        to_js(&Understanding::from(self.bot.understand(text)))
    }

    /// The language of `text` as a turn reads it (`Bot::detect_language`: locale classifier,
    /// built-in identifier, explicit request), without touching the conversation; what the
    /// benchmark times as language detection.
    ///
    /// # Errors
    /// Only if the result cannot be handed to JavaScript.
    #[wasm_bindgen(js_name = detectLanguage)]
    pub fn detect_language(&self, text: &str) -> Result<LanguageGuessJs, JsError> {
        to_js(&self.bot.detect_language(text))
    }

    /// The intent classifier alone on `text`: the best intents, best first (at most 5), as
    /// `understand` ranks them, without entities, sentiment or locale (what the benchmark
    /// times as classifying an utterance).
    ///
    /// # Errors
    /// Only if the ranking cannot be handed to JavaScript.
    pub fn classify(&self, text: &str) -> Result<RankingJs, JsError> {
        to_js(&ranked(self.bot.classify(text)))
    }

    /// The transcript, oldest first.
    ///
    /// # Errors
    /// Only if it cannot be converted (a bug).
    pub fn transcript(&self) -> Result<TranscriptJs, JsError> {
        to_js(&self.state.transcript)
    }

    /// The key figures of this conversation, measured here from its state (`Bot::kpis`):
    /// counts, the outcome and the ratings, no text. Nothing is sent; the caller decides.
    ///
    /// # Errors
    /// Only if they cannot be converted (a bug).
    pub fn kpis(&self) -> Result<KpisJs, JsError> {
        to_js(&self.bot.kpis(&self.state))
    }

    /// A thumbs up (`up` true) or down on the bot's latest answer (`Bot::feedback`): the visitor
    /// message it answered leans, from now on and on this device only, toward (or away from)
    /// the intent acted on, for that message and ones like it; saved at once. Returns false
    /// when there is nothing to rate (no answer yet, or the latest was a fallback). `now` in
    /// ms since the Unix epoch.
    pub fn feedback(&mut self, up: bool, now: f64) -> bool {
        let recorded = self.bot.feedback(&mut self.state, up, to_ms(now));
        if recorded {
            self.store.save(&self.state);
        }
        recorded
    }

    /// What the bot knows about the visitor.
    ///
    /// # Errors
    /// Only if it cannot be converted (a bug).
    pub fn profile(&self) -> Result<ProfileJs, JsError> {
        to_js(&self.state.profile)
    }

    /// Forgets the conversation (stored copy included) and starts a new one at `now`; returns
    /// its greeting.
    ///
    /// # Errors
    /// Only if the messages cannot be converted (a bug).
    pub fn reset(&mut self, now: f64) -> Result<BotMessagesJs, JsError> {
        self.forget_me(now);
        self.begin(now)
    }

    /// Forgets one thing the bot remembers about the visitor (an entry of `profile().facts`,
    /// `"name"` for the name, `"topic"` and a topic's kind, or `"taught"` and a lesson's text)
    /// and saves; returns true when
    /// there was such a thing.
    pub fn forget(&mut self, entity: &str, value: &str) -> bool {
        let forgotten = self.state.forget(entity, value);
        if forgotten {
            self.store.save(&self.state);
        }
        forgotten
    }

    /// The site says who the logged-in visitor is: their record and orders are kept with the
    /// conversation, and an order question is answered from them instead of asking.
    ///
    /// # Errors
    /// When `customer` does not have the `Customer` shape (the message names the field).
    pub fn identify(&mut self, customer: CustomerJs) -> Result<(), JsError> {
        let customer = from_js(&JsValue::from(customer)).map_err(|e| JsError::new(&format!("identify: {e}")))?;
        self.bot.identify(&mut self.state, customer);
        self.store.save(&self.state);
        Ok(())
    }

    /// The site reports what the visitor did at `now`: `event` `product_view`, `add_to_cart` or
    /// `purchase` with the product's `name` is kept on the device as a fact (see What I
    /// remember) for a bot whose definition has a `profile`. Returns true when it was kept.
    pub fn track(&mut self, event: &str, name: &str, now: f64) -> bool {
        let kept = self.bot.track(&mut self.state, event, name, to_ms(now));
        if kept {
            self.store.save(&self.state);
        }
        kept
    }

    /// The widget showed `products` (ids, best first) for the last turn's recommendation, so
    /// that "compare them" and "what goes with it?" know which. Returns false when no
    /// recommendation is open.
    pub fn shown(&mut self, products: Vec<String>) -> bool {
        let kept = self.bot.shown(&mut self.state, products);
        if kept {
            self.store.save(&self.state);
        }
        kept
    }

    /// "Forget me": deletes everything this chat stored on the device (the conversation, the
    /// profile, the escalation) and starts over at `now` without saving anything until the
    /// visitor writes again. Returns true when an escalation server received the conversation
    /// (sent, or possibly sent), so the widget can say what it still holds.
    #[wasm_bindgen(js_name = forgetMe)]
    pub fn forget_me(&mut self, now: f64) -> bool {
        let server_has_copy = self.escalation.as_ref().is_some_and(|e| {
            !matches!(e.status, escalation::Status::Queued { .. } | escalation::Status::Rejected { .. })
        });
        self.store.clear();
        self.escalation = None;
        self.store.save_escalation(None);
        let seed = self.state.next_random();
        self.state = self.bot.new_state(&self.locale_hint, seed, to_ms(now));
        self.forgotten = true;
        server_has_copy
    }

    /// Adopts the conversation stored under this chat's key when it differs from this one:
    /// another tab of the same site wrote it (the widget calls this before every turn and on
    /// the `storage` event, so two tabs chatting at once build on each other's messages instead
    /// of overwriting them). True when the state was replaced; false when nothing is stored,
    /// it cannot be used (this state is kept), or it is this very state.
    #[wasm_bindgen(js_name = reloadStored)]
    pub fn reload_stored(&mut self) -> bool {
        let id = self.bot.definition().id.clone();
        match self.store.load(&id) {
            Some(state) if state != self.state => {
                self.state = state;
                true
            }
            _ => false,
        }
    }

    /// `"local"` while the conversation is saved in `localStorage`, `"memory"` when it is not
    /// (turned off, unavailable, or a write failed).
    #[wasm_bindgen(js_name = storageStatus, unchecked_return_type = "\"local\" | \"memory\"")]
    pub fn storage_status(&self) -> String {
        self.store.status().to_owned()
    }

    /// The bot's display name (the chat panel's accessible name).
    #[wasm_bindgen(js_name = botName)]
    pub fn bot_name(&self) -> String {
        self.bot.definition().name.clone()
    }

    /// The bot's id (it namespaces the storage key).
    #[wasm_bindgen(js_name = botId)]
    pub fn bot_id(&self) -> String {
        self.bot.definition().id.clone()
    }

    /// The locale replies are in (one of the bot's locales).
    pub fn locale(&self) -> String {
        self.state.profile.locale.clone()
    }

    /// The locales of a model loaded in parts (`sottovoce build --split`) whose part has not
    /// been added yet: fetch `<stem>.<locale>.svm` and pass it to [`Chat::add_locale`] before
    /// the bot can reply in one. Empty for a whole model.
    #[wasm_bindgen(js_name = missingLocales)]
    pub fn missing_locales(&self) -> Vec<String> {
        self.bot.missing_locales().to_vec()
    }

    /// The locale whose part [`Chat::add_locale`] must add before `text` is sent (the
    /// message is clearly in a locale whose part is missing), or `undefined`.
    #[wasm_bindgen(js_name = localeNeeded)]
    pub fn locale_needed(&self, text: &str) -> Option<String> {
        self.bot.locale_needed(text)
    }

    /// Adds a locale part of a model loaded in parts; returns its locale.
    ///
    /// # Errors
    /// The core's message for a foreign or damaged file, a part of another model, or a
    /// locale whose part is loaded already.
    #[wasm_bindgen(js_name = addLocale)]
    pub fn add_locale(&mut self, bytes: &[u8]) -> Result<String, JsError> {
        Ok(self.bot.add_locale(bytes)?)
    }

    /// `"model"` when loaded from a compiled model file, `"definition"` when trained here.
    #[wasm_bindgen(unchecked_return_type = "\"model\" | \"definition\"")]
    pub fn source(&self) -> String {
        if self.from_model { "model" } else { "definition" }.to_owned()
    }

    /// The question the visitor may agree to share to improve the bot, from their latest
    /// message (`escalation::shared_question`): the message the bot fell back on, or the one
    /// whose suggestion they then picked, with that intent; redacted under `policy`; `id` is a
    /// random key. `null` when the latest message was answered normally. Nothing is sent here.
    ///
    /// # Errors
    /// A bad redaction pattern.
    #[wasm_bindgen(js_name = sharedQuestion)]
    pub fn shared_question(&self, id: &str, policy: Option<PolicyJs>) -> Result<SharedQuestionJs, JsError> {
        let policy = read_policy(policy)?;
        to_js(&escalation::shared_question(&self.state, &policy, id)?)
    }

    /// What an escalation would send now, under `policy` (redacted; shown for consent).
    ///
    /// # Errors
    /// A bad redaction pattern, or an empty conversation (the core's message).
    #[wasm_bindgen(js_name = escalationPreview)]
    pub fn escalation_preview(&self, policy: Option<PolicyJs>) -> Result<PayloadJs, JsError> {
        let policy = read_policy(policy)?;
        to_js(&escalation::build_payload(&self.state, &policy)?)
    }

    /// The visitor consented at `now`: queues the escalation under `idempotencyKey` (16 to 200
    /// printable ASCII characters, e.g. `crypto.randomUUID()`) and saves it. Returns the view.
    ///
    /// # Errors
    /// As [`Chat::escalation_preview`], or a bad key.
    #[wasm_bindgen(js_name = escalationQueue)]
    pub fn escalation_queue(&mut self, idempotency_key: &str, now: f64, policy: Option<PolicyJs>) -> Result<EscalationJs, JsError> {
        let policy = read_policy(policy)?;
        let e = Escalation::queue(&mut self.state, &policy, idempotency_key, to_ms(now))?;
        self.escalation = Some(e);
        self.store.save(&self.state);
        self.save_escalation()
    }

    /// Takes over an escalation started elsewhere (`Escalation::adopt`): `created` is the body
    /// of `POST /api/escalations/resume` or one of `/by-customer`'s, `history` the body of `GET
    /// /api/escalations/{id}/messages`; its messages join the transcript once and the stream
    /// resumes after them. `idempotencyKey` as for `escalationQueue`. Saves; returns the view.
    ///
    /// # Errors
    /// A body without its shape (naming the field), a bad key or redaction pattern.
    #[wasm_bindgen(js_name = escalationAdopt)]
    pub fn escalation_adopt(
        &mut self,
        created: EscalationCreatedJs,
        history: MessagesJs,
        idempotency_key: &str,
        now: f64,
        policy: Option<PolicyJs>,
    ) -> Result<EscalationJs, JsError> {
        let policy = read_policy(policy)?;
        // Read field by field (js-sys) rather than with serde: the derived deserializers of
        // `EscalationCreated` and `Message` cost 3.3 KiB gzip of wasm (measured with `make pkg`).
        let created = JsValue::from(created);
        let status = match text_field(&created, "escalation", "status")?.as_str() {
            "open" => ConversationStatus::Open,
            "resolved" => ConversationStatus::Resolved,
            other => return Err(JsError::new(&format!("escalation.status: `{other}` is not open or resolved"))),
        };
        let created = EscalationCreated {
            id: text_field(&created, "escalation", "id")?,
            token: text_field(&created, "escalation", "token")?,
            status,
            created_ms: number_field(&created, "escalation", "created_ms")? as i64,
        };
        let history = js_sys::Array::from(&JsValue::from(history))
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let at = format!("messages[{i}]");
                let author = text_field(&m, &at, "author")?;
                let author = Author::ALL
                    .into_iter()
                    .find(|a| a.as_str() == author)
                    .ok_or_else(|| JsError::new(&format!("{at}.author: `{author}` is not visitor, bot or agent")))?;
                Ok(Message {
                    id: number_field(&m, &at, "id")? as i64,
                    author,
                    author_name: None,
                    text: text_field(&m, &at, "text")?,
                    created_ms: number_field(&m, &at, "created_ms")? as i64,
                    intent: None,
                    confidence: None,
                    sentiment: None,
                })
            })
            .collect::<Result<Vec<_>, JsError>>()?;
        Escalation::adopt(&mut self.escalation, &mut self.state, &created, &history, &policy, idempotency_key, to_ms(now))?;
        self.store.save(&self.state);
        self.save_escalation()
    }

    /// The escalation kept with this conversation, or `null`.
    ///
    /// # Errors
    /// Only if it cannot be converted (a bug).
    pub fn escalation(&self) -> Result<EscalationJs, JsError> {
        to_js(&self.escalation.as_ref().map(EscalationView::from))
    }

    /// True when the create request should start at `now` (queued, or failed and due, or a
    /// send cut off by a closed page).
    #[wasm_bindgen(js_name = escalationDue)]
    pub fn escalation_due(&self, now: f64) -> bool {
        self.escalation.as_ref().is_some_and(|e| e.create_due(to_ms(now)))
    }

    /// Call once when the page loads: a send left in flight by a closed page becomes due now.
    #[wasm_bindgen(js_name = escalationResume)]
    pub fn escalation_resume(&mut self, now: f64) {
        if let Some(e) = self.escalation.as_mut() {
            e.resume(to_ms(now));
            self.store.save_escalation(Some(e));
        }
    }

    /// A create request starts at `now`; returns the attempt number.
    ///
    /// # Errors
    /// No escalation, or it was already sent.
    #[wasm_bindgen(js_name = escalationSending)]
    pub fn escalation_sending(&mut self, now: f64) -> Result<u32, JsError> {
        let attempt = self.escalation_mut()?.mark_sending(to_ms(now))?;
        self.save_escalation()?;
        Ok(attempt)
    }

    /// The server stored the escalation as `id` and gave the visitor `token`.
    ///
    /// # Errors
    /// No escalation.
    #[wasm_bindgen(js_name = escalationSent)]
    pub fn escalation_sent(&mut self, id: &str, token: &str, now: f64) -> Result<EscalationJs, JsError> {
        self.escalation_mut()?.mark_sent(id, token, to_ms(now));
        self.save_escalation()
    }

    /// The create request's outcome at `now`: `status` is the HTTP status, or 0 when it got no
    /// answer (network error); `retryAfterMs` from a `Retry-After` header. The core decides what
    /// follows: wait and retry (network, 408, 425, 429, 5xx), or fail for good (422 and every
    /// other refusal; the escalation becomes `rejected` and is never resent). On 2xx, call
    /// `escalationSent` with the body's id and token instead.
    ///
    /// # Errors
    /// No escalation.
    #[wasm_bindgen(js_name = escalationOutcome)]
    pub fn escalation_outcome(&mut self, status: u16, retry_after_ms: Option<f64>, now: f64) -> Result<StepJs, JsError> {
        let step = self.escalation_mut()?.on_create(outcome(status, retry_after_ms), to_ms(now));
        self.save_escalation()?;
        to_js(&step)
    }

    /// An agent resolved the conversation.
    ///
    /// # Errors
    /// No escalation.
    #[wasm_bindgen(js_name = escalationResolved)]
    pub fn escalation_resolved(&mut self) -> Result<EscalationJs, JsError> {
        self.escalation_mut()?.mark_resolved();
        self.save_escalation()
    }

    /// The visitor wrote `text` to the agent at `now`: it joins the transcript and the outbox
    /// (redacted); returns the outgoing message (its `client_id` makes retries safe).
    ///
    /// # Errors
    /// No escalation.
    #[wasm_bindgen(js_name = escalationMessage)]
    pub fn escalation_message(&mut self, text: &str, now: f64) -> Result<OutgoingJs, JsError> {
        let message = self.escalation_mut()?.enqueue_message(text, to_ms(now));
        self.state.push(visitor_entry(text, to_ms(now)));
        self.store.save(&self.state);
        self.save_escalation()?;
        to_js(&message)
    }

    /// The server stored the outgoing message `clientId`.
    ///
    /// # Errors
    /// No escalation.
    #[wasm_bindgen(js_name = escalationDelivered)]
    pub fn escalation_delivered(&mut self, client_id: &str) -> Result<(), JsError> {
        self.escalation_mut()?.message_delivered(client_id);
        self.save_escalation()?;
        Ok(())
    }

    /// The outcome of sending the outgoing message `clientId` at `now` (`status` 0: network
    /// error), decided as for [`Chat::escalation_outcome`]: 2xx removes it from the outbox, a
    /// final refusal marks it `rejected` (kept in the transcript, never resent). `null` when
    /// `clientId` is not in the outbox.
    ///
    /// # Errors
    /// No escalation.
    #[wasm_bindgen(js_name = escalationMessageOutcome)]
    pub fn escalation_message_outcome(&mut self, client_id: &str, status: u16, retry_after_ms: Option<f64>, now: f64) -> Result<MaybeStepJs, JsError> {
        let step = self.escalation_mut()?.message_outcome(client_id, outcome(status, retry_after_ms), to_ms(now));
        self.save_escalation()?;
        to_js(&step)
    }

    /// A message from the server stream with event id `eventId`: an agent's `text` joins the
    /// transcript once (replays of seen ids are ignored). Returns true when it was new.
    ///
    /// # Errors
    /// No escalation.
    #[wasm_bindgen(js_name = addAgentMessage)]
    pub fn add_agent_message(&mut self, event_id: f64, text: &str, now: f64) -> Result<bool, JsError> {
        let new = self.escalation_mut()?.see_event(event_id as i64);
        if new {
            let mut entry = visitor_entry(text, to_ms(now));
            entry.from = Speaker::Agent;
            self.state.push(entry);
            self.store.save(&self.state);
        }
        self.save_escalation()?;
        Ok(new)
    }

    /// Records a server event id that is not an agent message (the visitor's own echo), so a
    /// resumed stream starts after it. Returns true when it was new.
    ///
    /// # Errors
    /// No escalation.
    #[wasm_bindgen(js_name = escalationSeen)]
    pub fn escalation_seen(&mut self, event_id: f64) -> Result<bool, JsError> {
        let new = self.escalation_mut()?.see_event(event_id as i64);
        self.save_escalation()?;
        Ok(new)
    }

    fn escalation_mut(&mut self) -> Result<&mut Escalation, JsError> {
        self.escalation.as_mut().ok_or_else(|| JsError::new("there is no escalation in this conversation"))
    }

    fn save_escalation(&mut self) -> Result<EscalationJs, JsError> {
        self.store.save_escalation(self.escalation.as_ref());
        self.escalation()
    }

    fn finish(&mut self, turn: Turn) -> Result<TurnJs, JsError> {
        self.forgotten = false;
        self.store.save(&self.state);
        to_js(&TurnOut::from(turn))
    }
}

/// Proactive teasers and the satisfaction question: the core decides, this only converts and
/// saves.
#[wasm_bindgen]
impl Chat {
    /// The page reports `event` (`"tick"`, `"exit_intent"`, `"tab_return"`, or `"track"` with
    /// the `track()` event's name in `tracked`) as the page is (`page`): the teaser of the
    /// trigger that fires, or `null` (nothing fires, the visitor types or chats, dismissed one
    /// this visit, or chose no tips). Plain strings rather than a tagged object: reading one
    /// pulled serde's buffering of internally tagged enums into the wasm. The state (the visit's events, the cart, the caps) is saved when a teaser
    /// shows or it changed, and otherwise at most once a minute (the time of the latest event);
    /// never after "Forget me" until the next greeting or turn.
    ///
    /// # Errors
    /// An unknown `event` (or `"track"` without `tracked`), or a `page` without its shape (the
    /// message names the field).
    pub fn proactive(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "PageEvent")] event: &str,
        page: PageContextJs,
        tracked: Option<String>,
    ) -> Result<TeaserJs, JsError> {
        let event = match (event, tracked) {
            ("tick", _) => PageEvent::Tick,
            ("exit_intent", _) => PageEvent::ExitIntent,
            ("tab_return", _) => PageEvent::TabReturn,
            ("track", Some(event)) => PageEvent::Track { event },
            (other, _) => {
                return Err(JsError::new(&format!(
                    "proactive: unknown event `{other}` (tick, exit_intent, tab_return, or track with the event's name)"
                )))
            }
        };
        let page: sottovoce::PageContext =
            from_js(&JsValue::from(page)).map_err(|e| JsError::new(&format!("proactive page: {e}")))?;
        let before = self.state.proactive.clone();
        let teaser = self.bot.proactive(&mut self.state, &event, &page);
        let changed = sottovoce::ProactiveState { last_ms: before.last_ms, ..self.state.proactive.clone() } != before;
        let due = teaser.is_some() || changed || page.now_ms.saturating_sub(self.proactive_saved_ms) >= PROACTIVE_SAVE_EVERY_MS;
        if due && !self.forgotten {
            self.store.save(&self.state);
            self.proactive_saved_ms = page.now_ms;
        }
        to_js(&teaser)
    }

    /// The teaser of trigger `id` whatever its conditions and caps, counting nothing (the
    /// owner's preview, `?sottovoce-trigger=<id>`); `null` for an unknown id.
    ///
    /// # Errors
    /// Only if it cannot be converted (a bug).
    #[wasm_bindgen(js_name = previewTeaser)]
    pub fn preview_teaser(&self, id: &str) -> Result<TeaserJs, JsError> {
        to_js(&self.bot.preview_teaser(&self.state, id))
    }

    /// The visitor opened the teaser of trigger `id` at `now`: its message joins the
    /// transcript as the bot's and is returned (show it first); `null` for an unknown id.
    ///
    /// # Errors
    /// Only if it cannot be converted (a bug).
    #[wasm_bindgen(js_name = openTeaser)]
    pub fn open_teaser(&mut self, id: &str, now: f64) -> Result<MaybeMessageJs, JsError> {
        let message = self.bot.open_teaser(&mut self.state, id, to_ms(now));
        self.store.save(&self.state);
        to_js(&message)
    }

    /// The visitor dismissed the teaser: none other this visit.
    #[wasm_bindgen(js_name = dismissTeaser)]
    pub fn dismiss_teaser(&mut self) {
        self.bot.dismiss_teaser(&mut self.state);
        self.store.save(&self.state);
    }

    /// The visitor chose "no tips" at `now`: kept under What I remember (`no_tips`), where
    /// forgetting it brings tips back.
    #[wasm_bindgen(js_name = noTips)]
    pub fn no_tips(&mut self, now: f64) {
        self.bot.no_tips(&mut self.state, to_ms(now));
        self.store.save(&self.state);
    }

    /// True while the visitor's "no tips" holds.
    #[wasm_bindgen(js_name = tipsOff)]
    pub fn tips_off(&self) -> bool {
        self.bot.tips_off(&self.state)
    }

    /// An agent resolved the escalation at `now`: the satisfaction question to show (already
    /// in the transcript), or `null` when the bot asks none. The visitor answers with `choose`
    /// or `send`.
    ///
    /// # Errors
    /// Only if it cannot be converted (a bug).
    #[wasm_bindgen(js_name = askCsat)]
    pub fn ask_csat(&mut self, now: f64) -> Result<MaybeMessageJs, JsError> {
        let message = self.bot.ask_csat(&mut self.state, to_ms(now));
        self.store.save(&self.state);
        to_js(&message)
    }

    /// The satisfaction ratings kept on this device, oldest first, for the owner's loop; they
    /// are never sent.
    ///
    /// # Errors
    /// Only if they cannot be converted (a bug).
    #[wasm_bindgen(js_name = csatRatings)]
    pub fn csat_ratings(&self) -> Result<CsatRatingsJs, JsError> {
        to_js(&self.state.csat.ratings)
    }
}

impl Chat {
    /// The constructor's work, with the word-vector table when there is one.
    fn open(bytes: &[u8], options: Option<ChatOptionsJs>, vectors: Option<&Arc<dyn SentenceEncoder>>) -> Result<Chat, JsError> {
        let options: ChatOptions = match options {
            Some(o) => {
                let value = JsValue::from(o);
                if value.is_undefined() || value.is_null() {
                    ChatOptions::default()
                } else {
                    from_js(&value).map_err(|e| JsError::new(&format!("Chat options: {e}")))?
                }
            }
            None => ChatOptions::default(),
        };
        let from_model = sottovoce::is_model(bytes);
        let bot = load(bytes, from_model, vectors)?;
        let id = bot.definition().id.clone();
        let key = options.storage_key.unwrap_or_else(|| format!("{}{id}", storage::KEY_PREFIX));
        let mut store = Store::open(key, options.persist.unwrap_or(true));
        let locale_hint = options.locale.unwrap_or_default();
        let now = options.now.map_or_else(now_ms, to_ms);
        let state = match store.load(&id) {
            Some(state) => state,
            None => {
                let seed = options.seed.map_or_else(random_seed, |s| s as u64);
                bot.new_state(&locale_hint, seed, now)
            }
        };
        let escalation = store.load_escalation();
        Ok(Chat { bot, state, store, locale_hint, from_model, escalation, proactive_saved_ms: 0, forgotten: false })
    }
}

/// The bot in `bytes`: a model file, or (full build only) definition JSON to train, with the
/// word-vector table `vectors` when it asks for one.
#[cfg(feature = "train")]
fn load(bytes: &[u8], is_model: bool, vectors: Option<&Arc<dyn SentenceEncoder>>) -> Result<Bot, JsError> {
    if is_model {
        return Ok(Bot::from_model_with_vectors(bytes, vectors)?);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| JsError::new(&format!("the bot is neither a model file nor UTF-8 definition JSON: {e}")))?;
    Ok(Bot::train_with_vectors(sottovoce::BotDefinition::from_json(text)?, vectors)?)
}

/// The bot in `bytes`, which must be a model file: the runtime build has no training code.
#[cfg(not(feature = "train"))]
fn load(bytes: &[u8], is_model: bool, vectors: Option<&Arc<dyn SentenceEncoder>>) -> Result<Bot, JsError> {
    if !is_model {
        return Err(JsError::new(
            "this is the runtime build of sottovoce, which loads compiled models (`sottovoce build`) only; \
             to train definition JSON in the page, import `sottovoce/full` (pkg/sottovoce_full.js)",
        ));
    }
    Ok(Bot::from_model_with_vectors(bytes, vectors)?)
}

/// A plain visitor transcript entry (no NLU: it went to a person).
fn visitor_entry(text: &str, time_ms: u64) -> TranscriptEntry {
    TranscriptEntry::plain(Speaker::Visitor, text, time_ms)
}

/// The string `field` of the object `value` (`what` names it in the error).
fn text_field(value: &JsValue, what: &str, field: &str) -> Result<String, JsError> {
    js_sys::Reflect::get(value, &field.into())
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| JsError::new(&format!("{what}.{field}: a string is needed")))
}

/// The number `field` of the object `value` (`what` names it in the error).
fn number_field(value: &JsValue, what: &str, field: &str) -> Result<f64, JsError> {
    js_sys::Reflect::get(value, &field.into())
        .ok()
        .and_then(|v| v.as_f64())
        .ok_or_else(|| JsError::new(&format!("{what}.{field}: a number is needed")))
}

/// Reads an optional `EscalationPolicy`.
fn read_policy(policy: Option<PolicyJs>) -> Result<Policy, JsError> {
    match policy.map(JsValue::from) {
        Some(v) if !v.is_undefined() && !v.is_null() => {
            from_js(&v).map_err(|e| JsError::new(&format!("escalation policy: {e}")))
        }
        _ => Ok(Policy::default()),
    }
}

/// The escalation as JavaScript sees it (without the jitter RNG, whose u64 does not fit a number).
#[derive(Serialize)]
struct EscalationView<'a> {
    payload: &'a escalation::Payload,
    idempotency_key: &'a str,
    status: &'a escalation::Status,
    outbox: &'a [escalation::Outgoing],
    last_event_id: i64,
}

impl<'a> From<&'a Escalation> for EscalationView<'a> {
    fn from(e: &'a Escalation) -> EscalationView<'a> {
        EscalationView {
            payload: &e.payload,
            idempotency_key: &e.idempotency_key,
            status: &e.status,
            outbox: &e.outbox,
            last_event_id: e.last_event_id,
        }
    }
}

/// An intent with its confidence, as an object rather than the core's `[name, confidence]`.
#[derive(Serialize)]
struct RankedIntent {
    intent: String,
    confidence: f32,
}

fn ranked(ranking: Vec<(String, f32)>) -> Vec<RankedIntent> {
    ranking.into_iter().map(|(intent, confidence)| RankedIntent { intent, confidence }).collect()
}

/// `Turn` as JavaScript sees it: the NLU result flattened into the turn.
#[derive(Serialize)]
struct TurnOut {
    messages: Vec<BotMessage>,
    intent: Option<String>,
    confidence: Option<f32>,
    ranking: Vec<RankedIntent>,
    entities: Vec<sottovoce::Entity>,
    locale: Option<String>,
    handoff: bool,
    recommend: Option<String>,
    recommend_terms: Vec<String>,
    with_products: Option<BotMessage>,
    products: Option<sottovoce::ProductFollowUp>,
    submit: Option<sottovoce::FormSubmit>,
    privacy: Option<sottovoce::PrivacyRequest>,
}

impl From<Turn> for TurnOut {
    fn from(turn: Turn) -> TurnOut {
        let (confidence, ranking, entities, locale) = match turn.nlu {
            Some(n) => (Some(n.confidence), ranked(n.ranking), n.entities, Some(n.locale)),
            None => (None, Vec::new(), Vec::new(), None),
        };
        TurnOut {
            messages: turn.messages,
            intent: turn.intent,
            confidence,
            ranking,
            entities,
            locale,
            handoff: turn.handoff,
            recommend: turn.recommend,
            recommend_terms: turn.recommend_terms,
            with_products: turn.with_products,
            products: turn.products,
            submit: turn.submit,
            privacy: turn.privacy,
        }
    }
}

/// `Understanding` as JavaScript sees it.
#[derive(Serialize)]
struct Understanding {
    intent: Option<String>,
    confidence: f32,
    ranking: Vec<RankedIntent>,
    entities: Vec<sottovoce::Entity>,
    locale: String,
}

impl From<NluResult> for Understanding {
    fn from(n: NluResult) -> Understanding {
        Understanding { intent: n.intent, confidence: n.confidence, ranking: ranked(n.ranking), entities: n.entities, locale: n.locale }
    }
}

/// Converts to a plain JavaScript value with serde-wasm-bindgen's JSON-compatible settings:
/// objects, not `Map`s, and `null` for `None`, so the shapes are those of the core's JSON.
fn to_js<T: Serialize + ?Sized, J: JsCast>(value: &T) -> Result<J, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).map(JsCast::unchecked_into).map_err(|e| JsError::new(&e.to_string()))
}

/// Reads a plain JavaScript value with serde-wasm-bindgen.
///
/// # Errors
/// A message when the value does not have the shape of `T` (serde-wasm-bindgen's
/// description, with the field).
fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    serde_wasm_bindgen::from_value(value.clone()).map_err(|e| e.to_string())
}

/// A JavaScript time (ms since the Unix epoch, a float) as the core's `u64`; negative and NaN
/// become 0 (`as` saturates).
/// The delivery event for an HTTP `status` (0: no answer) and an optional `Retry-After` in ms.
fn outcome(status: u16, retry_after_ms: Option<f64>) -> Event {
    match status {
        0 => Event::NetworkError,
        status => Event::Http { status, retry_after_ms: retry_after_ms.map(to_ms) },
    }
}

fn to_ms(now: f64) -> u64 {
    now as u64
}

fn now_ms() -> u64 {
    to_ms(js_sys::Date::now())
}

fn random_seed() -> u64 {
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
}

/// The clock of a turn at `now` (ms since the Unix epoch) for a visitor `utc_offset_min`
/// minutes east of UTC, or, when the caller passes none, the browser's own offset at `now`
/// (`Date.getTimezoneOffset()` counts minutes west, hence the negation).
fn turn_context(now: f64, utc_offset_min: Option<i32>) -> TurnContext {
    let offset = utc_offset_min.unwrap_or_else(|| {
        let west = js_sys::Date::new(&JsValue::from_f64(now)).get_timezone_offset();
        if west.is_finite() { -(west as i32) } else { 0 }
    });
    TurnContext::new(to_ms(now), offset)
}
