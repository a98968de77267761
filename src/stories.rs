//! Stories: conversation tests as data, and the one runner that checks them turn by turn.
//!
//! A story is a scripted conversation with a bot: the visitor's turns (typed text, a pressed
//! quick reply, a page load, a clock advance, a reload of the stored state) and, for each, what
//! must come out (intent, slots, reply message ids, action...). The types here derive serde,
//! so the story files can be YAML or JSON; the core reads no files and parses no YAML (that is
//! native-only): `tests/conversations.rs` and `sottovoce test` parse the files with serde_yaml
//! and call [`run_story`].
//!
//! # Format
//!
//! ```yaml
//! bot: www/bots/store.json             # definition, relative to the repository root
//! locale: es                           # optional browser locale hint (default: the bot's first)
//! seed: 7                              # optional seed for reply variation (default 1)
//! start_ms: 1780000000000              # optional start time (default shown)
//! utc_offset_min: 60                   # optional visitor's offset from UTC, east positive (default 0)
//! turns:
//!   - visit: true                      # the page loads: Bot::begin_visit
//!     replies: [greeting]
//!   - say: where is my parcel          # typed text
//!     intent: order_status
//!     replies: [track-order-prompt]
//!   - press: Cancel                    # a quick reply on screen (the newest ones offered)
//!     replies: [track-order-cancelled]
//! ```
//!
//! A file may instead hold several stories sharing the header: `stories: [{name, turns, ...}]`
//! (see [`StoryFile`]). Before its action a turn may `wait` (`90s`, `31m`, `2h`, `3d`: the
//! clock moves on) and `reload: true` (the state goes through JSON and back, as in
//! `localStorage`). Expectations, all optional: `intent` (the intent acted on) or
//! `fallback: true`, `replies` (message ids, in order), `text` (substrings of the turn's text),
//! `links` (URLs, in order), `quick_replies` (labels, in order), `offers` and `not_offers`
//! (labels that must or must not be among the quick replies), `handoff`, `privacy` (`show`, `forget` or `none`), `slots` (slot →
//! value: the active form's slots, or the conversation context's when no form is active),
//! `entities` (entity → normalised value the message must carry, e.g. `{date: "2026-05-29"}`,
//! or `none` for one it must not),
//! `sentiment` (`negative`, `neutral` or `positive`), and after the turn: `name`, `visits`,
//! `locale`, `form` (active form name, or `none`), `csat` (the satisfaction ratings kept,
//! `"4"` or `"4: comment"`). `resolved: true` is an action of its own: an agent resolves the
//! visitor's escalation (`Bot::ask_csat`). `feedback: up` (or `down`) rates the bot's latest
//! answer before the action (`Bot::feedback`), and `forget: [taught, "<normalised message>"]`
//! undoes what it taught.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::dialogue::Bot;
use crate::dialogue::{BotMessage, Input, QuickReply, Turn, TurnContext};
use crate::state::{ConversationState, Speaker};

/// Default start time of a story: 2026-05-28T20:26:40Z, in ms since the Unix epoch.
pub const DEFAULT_START_MS: u64 = 1_780_000_000_000;

fn default_seed() -> u64 {
    1
}

fn default_start() -> u64 {
    DEFAULT_START_MS
}

/// A story file: one story (`turns`) or several (`stories`) sharing `bot`, `locale`, `seed` and
/// `start_ms` unless a story sets its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoryFile {
    /// Path of the bot definition or model, relative to the repository root (or the current
    /// directory for `sottovoce test`). May be overridden by the runner's caller.
    #[serde(default)]
    pub bot: Option<String>,
    /// Browser locale hint for a new conversation.
    #[serde(default)]
    pub locale: Option<String>,
    /// Seed for reply variation.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Start time in ms since the Unix epoch.
    #[serde(default)]
    pub start_ms: Option<u64>,
    /// The visitor's offset from UTC in minutes, for every story that sets none.
    #[serde(default)]
    pub utc_offset_min: Option<i32>,
    /// The turns of a single-story file.
    #[serde(default)]
    pub turns: Vec<Step>,
    /// The stories of a multi-story file.
    #[serde(default)]
    pub stories: Vec<Story>,
}

impl StoryFile {
    /// The stories in this file, each with the file's header filled in where it sets none.
    /// A single-story file gives one story named `name`.
    pub fn into_stories(self, name: &str) -> Vec<Story> {
        let mut out = Vec::new();
        if !self.turns.is_empty() {
            out.push(Story {
                name: name.to_owned(),
                bot: self.bot.clone(),
                locale: self.locale.clone(),
                seed: self.seed.unwrap_or_else(default_seed),
                start_ms: self.start_ms.unwrap_or_else(default_start),
                utc_offset_min: self.utc_offset_min.unwrap_or_default(),
                turns: self.turns,
            });
        }
        for mut story in self.stories {
            if story.name.is_empty() {
                story.name = format!("{name} #{}", out.len() + 1);
            } else {
                story.name = format!("{name}: {}", story.name);
            }
            story.bot = story.bot.or_else(|| self.bot.clone());
            story.locale = story.locale.or_else(|| self.locale.clone());
            if let Some(seed) = self.seed {
                if story.seed == default_seed() {
                    story.seed = seed;
                }
            }
            if let Some(offset) = self.utc_offset_min {
                if story.utc_offset_min == 0 {
                    story.utc_offset_min = offset;
                }
            }
            if let Some(start) = self.start_ms {
                if story.start_ms == DEFAULT_START_MS {
                    story.start_ms = start;
                }
            }
            out.push(story);
        }
        out
    }
}

/// One scripted conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Story {
    /// Name shown in reports.
    #[serde(default)]
    pub name: String,
    /// Bot path (see [`StoryFile::bot`]).
    #[serde(default)]
    pub bot: Option<String>,
    /// Browser locale hint (default: the bot's first locale).
    #[serde(default)]
    pub locale: Option<String>,
    /// Seed for reply variation (default 1).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Start time in ms since the Unix epoch (default [`DEFAULT_START_MS`]).
    #[serde(default = "default_start")]
    pub start_ms: u64,
    /// The visitor's offset from UTC in minutes, east positive (default 0: UTC); every turn
    /// passes it in its [`TurnContext`].
    #[serde(default)]
    pub utc_offset_min: i32,
    /// The turns, in order.
    pub turns: Vec<Step>,
}

/// One step: optional clock advance and reload, one action, and what must come out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Clock advance before the action: `90s`, `31m`, `2h`, `3d`, `500ms`.
    #[serde(default)]
    pub wait: Option<String>,
    /// The state goes through JSON and back before the action.
    #[serde(default)]
    pub reload: bool,
    /// The visitor removes one thing under What I remember before the action: `[entity,
    /// value]` as [`crate::state::Profile::forget`] takes them (`[topic, return_item]`).
    #[serde(default)]
    pub forget: Option<[String; 2]>,
    /// Before the action, the visitor rates the bot's latest answer: `up` or `down`
    /// ([`Bot::feedback`]); fails when there is nothing to rate.
    #[serde(default)]
    pub feedback: Option<String>,
    /// Before the action, the caller shows these products (ids, best first) for the last
    /// recommendation ([`Bot::shown`]), as the widget does after ranking its catalog.
    #[serde(default)]
    pub shown: Option<Vec<String>>,
    /// The page loads ([`Bot::begin_visit`]).
    #[serde(default)]
    pub visit: bool,
    /// The visitor types this text.
    #[serde(default)]
    pub say: Option<String>,
    /// The visitor presses the quick reply with this label (one of the newest offered).
    #[serde(default)]
    pub press: Option<String>,
    /// An agent resolves the visitor's escalation ([`Bot::ask_csat`]): the turn's messages are
    /// the satisfaction question, if any.
    #[serde(default)]
    pub resolved: bool,

    /// Expected intent acted on.
    #[serde(default)]
    pub intent: Option<String>,
    /// Expect the fallback (no intent acted on).
    #[serde(default)]
    pub fallback: bool,
    /// Expected message ids, in order.
    #[serde(default)]
    pub replies: Option<Vec<String>>,
    /// Substrings the turn's text must contain.
    #[serde(default)]
    pub text: Option<Vec<String>>,
    /// Expected link URLs, in order.
    #[serde(default)]
    pub links: Option<Vec<String>>,
    /// Expected quick-reply labels, in order.
    #[serde(default)]
    pub quick_replies: Option<Vec<String>>,
    /// Labels that must be among the turn's quick replies (others may be there too).
    #[serde(default)]
    pub offers: Option<Vec<String>>,
    /// Labels that must not be among the turn's quick replies.
    #[serde(default)]
    pub not_offers: Option<Vec<String>>,
    /// Expected handoff flag.
    #[serde(default)]
    pub handoff: Option<bool>,
    /// Expected request for the caller's catalog ([`Turn::recommend`]; `""` for none), the
    /// lines of a refined request joined by ` / `.
    #[serde(default)]
    pub recommend: Option<String>,
    /// Expected message said instead of the first once products are shown
    /// ([`Turn::with_products`]): its id, `""` for none.
    #[serde(default)]
    pub with_products: Option<String>,
    /// Expected request about the visitor's stored profile ([`Turn::privacy`]): `show`,
    /// `forget`, or `none`.
    #[serde(default)]
    pub privacy: Option<String>,
    /// Expected product follow-up ([`Turn::products`]): its kind (`refine`, `compare`,
    /// `related`; `none` for none) then the products it is about.
    #[serde(default)]
    pub products: Option<Vec<String>>,
    /// Expected slots after the turn (active form's, or the context's).
    #[serde(default)]
    pub slots: Option<BTreeMap<String, String>>,
    /// Expected submission of a finished form ([`Turn::submit`]): `kind` (`lead`,
    /// `newsletter`, `back_in_stock`) → its kind, and each field → its value; `{}` for none.
    #[serde(default)]
    pub submit: Option<BTreeMap<String, String>>,
    /// Expected sentiment class of the visitor's message: `negative`, `neutral`, `positive`.
    #[serde(default)]
    pub sentiment: Option<String>,
    /// Expected visitor name after the turn.
    #[serde(default)]
    pub name: Option<String>,
    /// Expected visit count after the turn.
    #[serde(default)]
    pub visits: Option<u32>,
    /// Expected reply locale after the turn.
    #[serde(default)]
    pub locale: Option<String>,
    /// Expected active form after the turn (`none` for no form).
    #[serde(default)]
    pub form: Option<String>,
    /// Entities the message must carry, by name → normalised value (others may be there too).
    #[serde(default)]
    pub entities: Option<BTreeMap<String, String>>,
    /// Expected kinds of the profile's open topics after the turn, oldest first.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    /// Expected satisfaction ratings kept after the turn, oldest first: `"4"`, or `"4: the
    /// comment"` with one.
    #[serde(default)]
    pub csat: Option<Vec<String>>,
}

/// One failing turn: where, what was expected, what came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnFailure {
    /// 1-based turn number.
    pub turn: usize,
    /// The action (`say "..."`, `press "..."`, `visit`).
    pub action: String,
    /// Each mismatch: `replies: expected [...], got [...]`.
    pub problems: Vec<String>,
    /// What the bot did: intent, NLU, messages with their buttons and links.
    pub actual: String,
}

/// The outcome of one story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryReport {
    /// The story's name.
    pub name: String,
    /// Turns run (a story stops at a turn that cannot be run, e.g. a button not on screen).
    pub turns: usize,
    /// Failing turns, in order; empty when the story passed.
    pub failures: Vec<TurnFailure>,
}

impl StoryReport {
    /// True when no turn failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl std::fmt::Display for StoryReport {
    /// Human-readable report: one block per failing turn.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.passed() {
            return write!(f, "{}: ok ({} turns)", self.name, self.turns);
        }
        write!(f, "{}: {} failing turn(s)", self.name, self.failures.len())?;
        for fail in &self.failures {
            write!(f, "\n  turn {} {}:", fail.turn, fail.action)?;
            for p in &fail.problems {
                write!(f, "\n    {p}")?;
            }
            write!(f, "\n    got: {}", fail.actual)?;
        }
        Ok(())
    }
}

/// Parses a clock advance: digits then `ms`, `s`, `m`, `h` or `d` (`90s` → 90,000).
///
/// # Errors
/// A message naming the bad text.
pub fn parse_wait(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("bad wait `{text}`"))?;
    let unit_ms = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => {
            return Err(format!(
                "bad wait unit `{other}` in `{text}` (use ms, s, m, h or d)"
            ))
        }
    };
    Ok(n.saturating_mul(unit_ms))
}

/// The sentiment class of a score in [-1, 1]: `negative` at or below
/// [`crate::sentiment::NEGATIVE`], `positive` at or above [`crate::sentiment::POSITIVE`].
pub fn sentiment_class(score: f32) -> &'static str {
    if score <= crate::sentiment::NEGATIVE {
        "negative"
    } else if score >= crate::sentiment::POSITIVE {
        "positive"
    } else {
        "neutral"
    }
}

fn describe(turn: &Turn) -> String {
    let mut s = String::new();
    let _ = write!(s, "intent {:?}", turn.intent);
    if let Some(nlu) = &turn.nlu {
        let _ = write!(
            s,
            " (confidence {:.2}; sentiment {:.2}; ranking {:?}; entities {:?})",
            nlu.confidence,
            nlu.sentiment,
            nlu.ranking
                .iter()
                .map(|(i, c)| format!("{i} {c:.2}"))
                .collect::<Vec<_>>(),
            nlu.entities
                .iter()
                .map(|e| format!("{}={}", e.entity, e.value))
                .collect::<Vec<_>>()
        );
    }
    for m in &turn.messages {
        let _ = write!(s, "\n        bot [{}] {:?}", m.id, m.text);
        for q in &m.quick_replies {
            let _ = write!(s, "\n          ( {} -> {:?} )", q.label, q.intent);
        }
        for l in &m.links {
            let _ = write!(s, "\n          <{}> {}", l.label, l.url);
        }
    }
    s
}

fn check<T: PartialEq + std::fmt::Debug>(
    problems: &mut Vec<String>,
    what: &str,
    expected: &Option<T>,
    got: T,
) {
    if let Some(expected) = expected {
        if *expected != got {
            problems.push(format!("{what}: expected {expected:?}, got {got:?}"));
        }
    }
}

fn ids(messages: &[BotMessage]) -> Vec<String> {
    messages.iter().map(|m| m.id.clone()).collect()
}

/// Runs one story against `bot` and reports each failing turn with what was expected and what
/// came out. Pure: the clock is the story's, the seed is the story's. Besides the expectations,
/// every turn checks that the transcript ends with the visitor's entry (carrying the intent acted
/// on) and the bot's messages as shown.
pub fn run_story(bot: &Bot, story: &Story) -> StoryReport {
    let mut failures = Vec::new();
    let mut now = story.start_ms;
    let hint = story
        .locale
        .clone()
        .unwrap_or_else(|| bot.definition().default_locale().to_owned());
    let mut state = bot.new_state(&hint, story.seed, now);
    let mut offered: Vec<QuickReply> = Vec::new();
    let mut turns = 0;
    let fail = |turn: usize, action: &str, problem: String| TurnFailure {
        turn,
        action: action.to_owned(),
        problems: vec![problem],
        actual: String::new(),
    };
    for (n, step) in story.turns.iter().enumerate() {
        let number = n + 1;
        turns = number;
        if let Some(wait) = &step.wait {
            match parse_wait(wait) {
                Ok(ms) => now = now.saturating_add(ms),
                Err(e) => failures.push(fail(number, "wait", e)),
            }
        }
        if step.reload {
            let json = state.to_json();
            match ConversationState::from_json(&json, &bot.definition().id) {
                Ok(back) if back == state => state = back,
                Ok(_) => failures.push(fail(
                    number,
                    "reload",
                    "state changed in its JSON round trip".into(),
                )),
                Err(e) => failures.push(fail(
                    number,
                    "reload",
                    format!("state JSON did not load back: {e}"),
                )),
            }
        }
        if let Some([entity, value]) = &step.forget {
            if !state.forget(entity, value) {
                failures.push(fail(number, "forget", format!("nothing to forget for {entity} {value:?}")));
            }
        }
        if let Some(rating) = &step.feedback {
            let up = match rating.as_str() {
                "up" => Some(true),
                "down" => Some(false),
                _ => None,
            };
            match up {
                Some(up) if bot.feedback(&mut state, up, now) => {}
                Some(_) => failures.push(fail(number, "feedback", "no answer to rate (none yet, or a fallback)".into())),
                None => failures.push(fail(number, "feedback", format!("{rating:?} is neither up nor down"))),
            }
        }
        if let Some(products) = &step.shown {
            if !bot.shown(&mut state, products.clone()) {
                failures.push(fail(number, "shown", "no recommendation is open to show products for".into()));
            }
        }
        let (action, turn) = match (step.visit, &step.say, &step.press) {
            (true, None, None) => {
                let messages = bot.begin_visit(&mut state, now);
                (
                    "visit".to_owned(),
                    Turn { messages, ..Turn::default() },
                )
            }
            (false, Some(text), None) => (
                format!("say {text:?}"),
                bot.respond(&mut state, Input::Text { text: text.clone() }, TurnContext::new(now, story.utc_offset_min)),
            ),
            (false, None, Some(button)) => {
                let Some(q) = offered.iter().find(|q| &q.label == button).cloned() else {
                    let labels: Vec<&str> = offered.iter().map(|q| q.label.as_str()).collect();
                    failures.push(fail(
                        number,
                        &format!("press {button:?}"),
                        format!("no such quick reply is on screen; offered {labels:?}"),
                    ));
                    break;
                };
                (
                    format!("press {button:?}"),
                    bot.respond(
                        &mut state,
                        Input::QuickReply {
                            label: q.label,
                            intent: q.intent,
                            locale: q.locale,
                        },
                        TurnContext::new(now, story.utc_offset_min),
                    ),
                )
            }
            (false, None, None) if step.resolved => {
                let messages = bot.ask_csat(&mut state, now).into_iter().collect();
                ("resolved".to_owned(), Turn { messages, ..Turn::default() })
            }
            (false, None, None) if step.wait.is_some() || step.reload || step.shown.is_some() || step.feedback.is_some() => continue,
            _ => {
                failures.push(fail(
                    number,
                    "?",
                    "give exactly one of `visit`, `say`, `press`".into(),
                ));
                break;
            }
        };
        let shown: Vec<QuickReply> = turn
            .messages
            .iter()
            .flat_map(|m| m.quick_replies.clone())
            .collect();
        // The newest buttons on screen stay pressable until newer ones replace them.
        if !shown.is_empty() {
            offered = shown.clone();
        }

        let mut problems = Vec::new();
        let n = turn.messages.len();
        let said = match (&step.say, &step.press) {
            (Some(t), _) if !t.trim().is_empty() => Some(t.clone()),
            (_, Some(label)) => Some(label.clone()),
            _ => None,
        };
        let tail_len = n + usize::from(said.is_some());
        if state.transcript.len() < tail_len {
            problems.push(format!(
                "transcript: {} entries, expected at least {tail_len}",
                state.transcript.len()
            ));
        } else {
            let tail = &state.transcript[state.transcript.len() - tail_len..];
            if let Some(said) = &said {
                let v = &tail[0];
                if v.from != Speaker::Visitor || &v.text != said || v.intent != turn.intent {
                    problems.push(format!(
                        "transcript: expected the visitor's {said:?} with intent {:?}, got {:?} {:?} with intent {:?}",
                        turn.intent, v.from, v.text, v.intent
                    ));
                }
            }
            for (entry, m) in tail[usize::from(said.is_some())..]
                .iter()
                .zip(&turn.messages)
            {
                if entry.from != Speaker::Bot || entry.text != m.text || entry.links != m.links {
                    problems.push(format!(
                        "transcript: expected the bot's {:?}, got {:?} {:?}",
                        m.text, entry.from, entry.text
                    ));
                }
            }
        }
        if step.fallback && turn.intent.is_some() {
            problems.push(format!(
                "intent: expected the fallback, got {:?}",
                turn.intent
            ));
        }
        check(
            &mut problems,
            "intent",
            &step.intent.as_ref().map(|i| Some(i.clone())),
            turn.intent.clone(),
        );
        check(&mut problems, "replies", &step.replies, ids(&turn.messages));
        if let Some(texts) = &step.text {
            let all: String = turn
                .messages
                .iter()
                .map(|m| m.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            for t in texts {
                if !all.contains(t.as_str()) {
                    problems.push(format!("text: expected to contain {t:?}, got {all:?}"));
                }
            }
        }
        let links: Vec<String> = turn
            .messages
            .iter()
            .flat_map(|m| m.links.iter().map(|l| l.url.clone()))
            .collect();
        check(&mut problems, "links", &step.links, links);
        check(
            &mut problems,
            "quick_replies",
            &step.quick_replies,
            shown.iter().map(|q| q.label.clone()).collect(),
        );
        for label in step.offers.iter().flatten() {
            if !shown.iter().any(|q| &q.label == label) {
                let labels: Vec<&str> = shown.iter().map(|q| q.label.as_str()).collect();
                problems.push(format!(
                    "offers: expected a {label:?} button, got {labels:?}"
                ));
            }
        }
        for label in step.not_offers.iter().flatten() {
            if shown.iter().any(|q| &q.label == label) {
                problems.push(format!("not_offers: a {label:?} button is offered"));
            }
        }
        check(&mut problems, "handoff", &step.handoff, turn.handoff);
        check(&mut problems, "recommend", &step.recommend, turn.recommend.as_deref().unwrap_or("").replace('\n', " / "));
        check(&mut problems, "with_products", &step.with_products, turn.with_products.as_ref().map_or("", |m| m.id.as_str()).to_owned());
        let privacy = turn.privacy.and_then(|p| serde_json::to_value(p).ok()).and_then(|v| v.as_str().map(str::to_owned));
        check(&mut problems, "privacy", &step.privacy, privacy.unwrap_or_else(|| "none".to_owned()));
        let products = match &turn.products {
            Some(p) => std::iter::once(serde_json::to_value(p.kind).ok().and_then(|k| k.as_str().map(str::to_owned)).unwrap_or_default())
                .chain(p.products.iter().cloned())
                .collect(),
            None => vec!["none".to_owned()],
        };
        check(&mut problems, "products", &step.products, products);
        let submit: BTreeMap<String, String> = turn
            .submit
            .iter()
            .flat_map(|s| std::iter::once(("kind".to_owned(), s.kind.as_str().to_owned())).chain(s.fields.clone()))
            .collect();
        check(&mut problems, "submit", &step.submit, submit);
        if step.slots.is_some() {
            let slots = match &state.form {
                Some(form) => form.slots.clone(),
                None => state.memory.context(),
            };
            check(&mut problems, "slots", &step.slots, slots);
        }
        if let Some(expected) = &step.entities {
            let found = turn.nlu.as_ref().map(|n| n.entities.as_slice()).unwrap_or_default();
            // An entity the message does not carry reads `none`.
            let got: BTreeMap<String, String> = expected
                .keys()
                .map(|name| {
                    let value = found.iter().find(|e| &e.entity == name).map_or_else(|| "none".to_owned(), |e| e.value.clone());
                    (name.clone(), value)
                })
                .collect();
            check(&mut problems, "entities", &Some(expected.clone()), got);
        }
        if step.sentiment.is_some() {
            let got = turn
                .nlu
                .as_ref()
                .map(|n| sentiment_class(n.sentiment))
                .unwrap_or("none")
                .to_owned();
            check(&mut problems, "sentiment", &step.sentiment, got);
        }
        check(
            &mut problems,
            "name",
            &step.name.as_ref().map(|n| Some(n.clone())),
            state.profile.name.clone(),
        );
        check(&mut problems, "visits", &step.visits, state.profile.visits);
        let ratings = state.csat.ratings.iter().map(|r| match &r.comment {
            Some(c) => format!("{}: {c}", r.rating),
            None => r.rating.to_string(),
        });
        check(&mut problems, "csat", &step.csat, ratings.collect::<Vec<_>>());
        check(&mut problems, "topics", &step.topics, state.profile.topics.iter().map(|t| t.kind.clone()).collect::<Vec<_>>());
        check(
            &mut problems,
            "locale",
            &step.locale,
            state.profile.locale.clone(),
        );
        let form = state
            .form
            .as_ref()
            .map(|f| f.name.clone())
            .unwrap_or_else(|| "none".to_owned());
        check(&mut problems, "form", &step.form, form);
        if !problems.is_empty() {
            failures.push(TurnFailure {
                turn: number,
                action,
                problems,
                actual: describe(&turn),
            });
        }
    }
    StoryReport {
        name: story.name.clone(),
        turns,
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_parses_units() {
        assert_eq!(parse_wait("90s"), Ok(90_000));
        assert_eq!(parse_wait("31m"), Ok(31 * 60_000));
        assert_eq!(parse_wait("2h"), Ok(7_200_000));
        assert_eq!(parse_wait("500ms"), Ok(500));
        assert!(parse_wait("soon").is_err());
        assert!(parse_wait("3w").is_err());
    }

    #[test]
    fn a_wrong_expectation_fails_with_expected_and_actual() {
        let bot =
            Bot::from_json(include_str!("../tests/fixtures/bots/mini.json")).expect("mini bot");
        let story = Story {
            name: "wrong".into(),
            bot: None,
            locale: None,
            seed: 1,
            start_ms: DEFAULT_START_MS,
            utc_offset_min: 0,
            turns: vec![
                Step {
                    visit: true,
                    replies: Some(vec!["no-such-message".into()]),
                    ..Step::default()
                },
                Step {
                    press: Some("Not a button".into()),
                    ..Step::default()
                },
            ],
        };
        let report = run_story(&bot, &story);
        assert_eq!(report.failures.len(), 2, "{report}");
        assert!(report.failures[0].problems[0]
            .starts_with("replies: expected [\"no-such-message\"], got ["));
        assert!(report.failures[1].problems[0].contains("no such quick reply"));
        assert!(!report.passed());
    }
}
