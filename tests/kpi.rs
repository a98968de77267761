//! Key figures as data: every `tests/fixtures/kpi/*.yaml` runs here, through [`Bot::kpis`] and
//! [`Kpis::add`], with one runner.
//!
//! A file names a bot (`bot`, relative to the repository root) and holds `conversations`, each
//! from a fresh state in `locale` (default `en`). A step may `wait` (`3s`, `2h`: the clock moves
//! on), `say` a text, `press` a button the bot's last messages offered (by its label), or have an
//! `agent` write (as the widget records an agent's reply). `expect` is the conversation's
//! [`ConversationKpis`]; the file's `total` and `locales` are the [`Kpis`] of all of them.
//! Each file runs twice: with the trained bot and with it loaded back from its model file, and
//! each conversation's state goes through JSON (as in `localStorage`) before it is measured.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use sottovoce::stories::parse_wait;
use sottovoce::{Bot, ConversationKpis, ConversationState, Input, Kpis, Speaker, Tally, TranscriptEntry, TurnContext};

const START_MS: u64 = 1_780_000_000_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// The aggregate of every conversation.
    total: Tally,
    /// The aggregate per conversation locale.
    locales: BTreeMap<String, Tally>,
    /// The bot definition, relative to the repository root.
    bot: String,
    conversations: Vec<Conversation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Conversation {
    name: String,
    #[serde(default = "en")]
    locale: String,
    steps: Vec<Step>,
    expect: ConversationKpis,
}

fn en() -> String {
    "en".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    wait: Option<String>,
    say: Option<String>,
    press: Option<String>,
    agent: Option<String>,
}

fn run(bot: &Bot, c: &Conversation) -> ConversationKpis {
    let mut now = START_MS;
    let mut state = bot.new_state(&c.locale, 1, now);
    for (n, step) in c.steps.iter().enumerate() {
        if let Some(wait) = &step.wait {
            now += parse_wait(wait).unwrap_or_else(|e| panic!("{}: step {}: {e}", c.name, n + 1));
        }
        let at = TurnContext::new(now, 0);
        if let Some(text) = &step.say {
            bot.respond(&mut state, Input::Text { text: text.clone() }, at);
        }
        if let Some(label) = &step.press {
            let offered = state.transcript.iter().rev().take_while(|e| e.from == Speaker::Bot).flat_map(|e| &e.quick_replies);
            let button = offered
                .clone()
                .find(|q| &q.label == label)
                .unwrap_or_else(|| panic!("{}: step {}: no button {label:?}; offered {:?}", c.name, n + 1, offered.map(|q| &q.label).collect::<Vec<_>>()))
                .clone();
            bot.respond(&mut state, Input::QuickReply { label: button.label, intent: button.intent, locale: button.locale }, at);
        }
        if let Some(text) = &step.agent {
            let mut entry = state.transcript.last().cloned().expect("an agent answers a conversation");
            entry = TranscriptEntry { from: Speaker::Agent, text: text.clone(), time_ms: now, intent: None, confidence: None, sentiment: None, quick_replies: Vec::new(), fallback: false, ..entry };
            state.push(entry);
        }
    }
    let stored = ConversationState::from_json(&state.to_json(), &bot.definition().id).expect("state reloads");
    bot.kpis(&stored)
}

#[test]
fn kpi_fixtures() {
    let dir = root().join("tests/fixtures/kpi");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut problems = Vec::new();
    for path in files {
        let file: File = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let trained = Bot::from_json(&std::fs::read_to_string(root().join(&file.bot)).unwrap()).unwrap();
        let loaded = Bot::from_model(&trained.to_model()).unwrap();
        for (how, bot) in [("trained", &trained), ("model", &loaded)] {
            let mut kpis = Kpis::default();
            for c in &file.conversations {
                let got = run(bot, c);
                if got != c.expect {
                    problems.push(format!("{} ({how}): {}: expected {:?}\n  got {:?}", path.display(), c.name, c.expect, got));
                }
                kpis.add(&got);
            }
            let expected = Kpis { total: file.total.clone(), locales: file.locales.clone() };
            if kpis != expected {
                problems.push(format!("{} ({how}): aggregate: expected {expected:?}\n  got {kpis:?}", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
