//! The conversation fixture driver: runs every `tests/fixtures/conversations/*.yaml` against its
//! bot, turn by turn, and reports each failing turn with what was expected and what came out.
//!
//! Every conversation runs twice: with the bot trained from its definition, and with the same
//! bot after a round trip through the compiled model file (`sottovoce build`'s format), so both
//! load paths of the widget are covered by the same scripts.
//!
//! # Fixture format
//!
//! ```yaml
//! bot: tests/fixtures/bots/mini.json   # definition, relative to the repository root
//! locale: es                           # optional browser locale hint (default: the bot's first)
//! seed: 7                              # optional seed for reply variation (default 1)
//! start_ms: 1780000000000              # optional start time (default shown)
//! turns:
//!   - visit: true                      # the page loads: Bot::begin_visit
//!     replies: [greeting]
//!   - say: where is my parcel          # typed text
//!     intent: track_order
//!     replies: [ask-order-number]
//!   - press: Cancel                    # a quick reply on screen (the newest ones offered)
//!     replies: [order-cancelled]
//! ```
//!
//! Before its action a turn may `wait` (`90s`, `31m`, `2h`, `3d`: the clock moves on) and
//! `reload: true` (the state goes through JSON and back, as in `localStorage`). Expectations,
//! all optional: `intent` (the intent acted on) or `fallback: true`, `replies` (message ids, in
//! order), `text` (substrings of the turn's text), `links` (URLs, in order), `quick_replies`
//! (labels, in order), `handoff`, and after the turn: `name`, `visits`, `locale`, `form`
//! (active form name, or `none`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Deserialize;
use sottovoce::{Bot, BotMessage, ConversationState, Input, Turn};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Conversation {
    bot: String,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default = "default_start")]
    start_ms: u64,
    turns: Vec<Step>,
}

fn default_seed() -> u64 {
    1
}

fn default_start() -> u64 {
    1_780_000_000_000
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Step {
    wait: Option<String>,
    #[serde(default)]
    reload: bool,
    #[serde(default)]
    visit: bool,
    say: Option<String>,
    press: Option<String>,

    intent: Option<String>,
    #[serde(default)]
    fallback: bool,
    replies: Option<Vec<String>>,
    text: Option<Vec<String>>,
    links: Option<Vec<String>>,
    quick_replies: Option<Vec<String>>,
    handoff: Option<bool>,
    name: Option<String>,
    visits: Option<u32>,
    locale: Option<String>,
    form: Option<String>,
}

fn parse_wait(text: &str) -> Result<u64, String> {
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
    Ok(n * unit_ms)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The two bots for one definition: trained, and loaded back from its model file.
fn load_bots(path: &str) -> Result<[(&'static str, Bot); 2], String> {
    let bytes =
        std::fs::read(root().join(path)).map_err(|e| format!("cannot read bot {path}: {e}"))?;
    let trained = Bot::load(&bytes).map_err(|e| format!("bot {path}: {e}"))?;
    let from_model =
        Bot::from_model(&trained.to_model()).map_err(|e| format!("bot {path} (model): {e}"))?;
    Ok([("trained", trained), ("model", from_model)])
}

fn ids(messages: &[BotMessage]) -> Vec<String> {
    messages.iter().map(|m| m.id.clone()).collect()
}

fn describe(turn: &Turn) -> String {
    let mut s = String::new();
    let _ = write!(s, "intent {:?}", turn.intent);
    if let Some(nlu) = &turn.nlu {
        let _ = write!(
            s,
            " (confidence {:.2}; ranking {:?}; entities {:?})",
            nlu.confidence,
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

/// Runs one conversation with one bot; returns the failures.
fn run(file: &str, conv: &Conversation, label: &str, bot: &Bot) -> Vec<String> {
    let mut failures = Vec::new();
    let mut now = conv.start_ms;
    let hint = conv
        .locale
        .clone()
        .unwrap_or_else(|| bot.definition().default_locale().to_owned());
    let mut state = bot.new_state(&hint, conv.seed, now);
    let mut offered: Vec<sottovoce::QuickReply> = Vec::new();
    for (n, step) in conv.turns.iter().enumerate() {
        let number = n + 1;
        if let Some(wait) = &step.wait {
            match parse_wait(wait) {
                Ok(ms) => now += ms,
                Err(e) => failures.push(format!("{file} turn {number}: {e}")),
            }
        }
        if step.reload {
            let json = state.to_json();
            match ConversationState::from_json(&json, &bot.definition().id) {
                Ok(back) if back == state => state = back,
                Ok(_) => failures.push(format!(
                    "{file} turn {number} [{label}]: state changed in its JSON round trip"
                )),
                Err(e) => failures.push(format!(
                    "{file} turn {number} [{label}]: state JSON did not load back: {e}"
                )),
            }
        }
        let (action, turn) = match (step.visit, &step.say, &step.press) {
            (true, None, None) => {
                let messages = bot.begin_visit(&mut state, now);
                (
                    "visit".to_owned(),
                    Turn {
                        messages,
                        nlu: None,
                        intent: None,
                        handoff: false,
                    },
                )
            }
            (false, Some(text), None) => (
                format!("say {text:?}"),
                bot.respond(&mut state, Input::Text { text: text.clone() }, now),
            ),
            (false, None, Some(button)) => {
                let Some(q) = offered.iter().find(|q| &q.label == button).cloned() else {
                    let labels: Vec<&str> = offered.iter().map(|q| q.label.as_str()).collect();
                    failures.push(format!(
                        "{file} turn {number} [{label}]: press {button:?}: no such quick reply is on screen; offered {labels:?}"
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
                        },
                        now,
                    ),
                )
            }
            (false, None, None) if step.wait.is_some() || step.reload => continue,
            _ => {
                failures.push(format!(
                    "{file} turn {number}: give exactly one of `visit`, `say`, `press`"
                ));
                break;
            }
        };
        let shown: Vec<sottovoce::QuickReply> = turn
            .messages
            .iter()
            .flat_map(|m| m.quick_replies.clone())
            .collect();
        // The newest buttons on screen stay pressable until newer ones replace them.
        if !shown.is_empty() {
            offered = shown.clone();
        }

        let mut problems = Vec::new();
        // Every turn is in the transcript: the visitor's entry (with the intent acted on), then
        // the bot's messages as shown.
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
                if v.from != sottovoce::Speaker::Visitor
                    || &v.text != said
                    || v.intent != turn.intent
                {
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
                if entry.from != sottovoce::Speaker::Bot
                    || entry.text != m.text
                    || entry.links != m.links
                {
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
                    problems.push(format!("text: expected to contain {t:?}"));
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
        check(&mut problems, "handoff", &step.handoff, turn.handoff);
        check(
            &mut problems,
            "name",
            &step.name.as_ref().map(|n| Some(n.clone())),
            state.profile.name.clone(),
        );
        check(&mut problems, "visits", &step.visits, state.profile.visits);
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
            failures.push(format!(
                "{file} turn {number} [{label}] {action}:\n    {}\n    got: {}",
                problems.join("\n    "),
                describe(&turn)
            ));
        }
    }
    failures
}

#[test]
fn conversations() {
    let dir = root().join("tests/fixtures/conversations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/conversations exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no conversation fixtures found in {}",
        dir.display()
    );

    let only = std::env::var("CONVERSATION").ok();
    let mut bots: HashMap<String, [(&'static str, Bot); 2]> = HashMap::new();
    let mut failures = Vec::new();
    let mut turns = 0;
    for path in &files {
        let file = path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string();
        if only.as_ref().is_some_and(|o| !file.contains(o.as_str())) {
            continue;
        }
        let conv: Conversation = match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_yaml::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        if !bots.contains_key(&conv.bot) {
            match load_bots(&conv.bot) {
                Ok(pair) => {
                    bots.insert(conv.bot.clone(), pair);
                }
                Err(e) => {
                    failures.push(format!("{file}: {e}"));
                    continue;
                }
            }
        }
        for (label, bot) in &bots[&conv.bot] {
            failures.extend(run(&file, &conv, label, bot));
        }
        turns += conv.turns.len();
    }
    eprintln!(
        "conversations: {} file(s), {turns} turn(s), each run trained and from the model file",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing turn(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn wait_parses_units() {
    assert_eq!(parse_wait("90s"), Ok(90_000));
    assert_eq!(parse_wait("31m"), Ok(31 * 60_000));
    assert_eq!(parse_wait("2h"), Ok(7_200_000));
    assert!(parse_wait("soon").is_err());
}
