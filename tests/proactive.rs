//! Proactive triggers as data: every `tests/fixtures/proactive/*.yaml` runs here, through
//! [`sottovoce::Bot::proactive`], with one runner.
//!
//! A file names a bot (`bot`, relative to the repository root), may replace its `triggers`
//! (definition JSON written as YAML), and holds `cases`. A case is a list of steps from a fresh
//! conversation; a step may `wait` (`90s`, `31m`, `3d`: the clock moves on; the page's own clock
//! does not), `reload: true` (the state goes through JSON, as in `localStorage`), `visit: true`
//! (the chat starts a visit: `Bot::begin_visit`), `do` one of `dismiss`, `no_tips`,
//! `forget_tips`, `open <trigger>`, `track <event> <product name>` (the site's `Bot::track`,
//! kept as a profile fact), or report a page event: `event` (`tick`, `exit_intent`,
//! `tab_return`, or any other name as a `track()` event) with the page as it is (`url`,
//! `on_page_s`, `scroll_pct`, `idle_s`, `typing`, `chat_open`, `utc_offset_min`). `shows` is
//! the trigger id the event must show, or `none`; `text` a substring of the teaser's text.
//! Each case runs twice: with the trained bot and with it loaded back from its model file.

use std::path::PathBuf;

use serde::Deserialize;
use sottovoce::stories::parse_wait;
use sottovoce::{Bot, ConversationState, PageContext, PageEvent};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    bot: String,
    #[serde(default)]
    triggers: Option<serde_json::Value>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    steps: Vec<Step>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Step {
    wait: Option<String>,
    #[serde(default)]
    reload: bool,
    #[serde(default)]
    visit: bool,
    #[serde(rename = "do")]
    action: Option<String>,
    event: Option<String>,
    #[serde(default = "slash")]
    url: String,
    #[serde(default)]
    on_page_s: u64,
    #[serde(default)]
    scroll_pct: u8,
    #[serde(default)]
    idle_s: u64,
    #[serde(default)]
    typing: bool,
    #[serde(default)]
    chat_open: bool,
    #[serde(default)]
    utc_offset_min: i32,
    shows: Option<String>,
    text: Option<String>,
}

fn slash() -> String {
    "/".into()
}

/// 2026-05-28T20:26:40Z, the stories' start.
const START_MS: u64 = 1_780_000_000_000;

fn event(name: &str) -> PageEvent {
    match name {
        "tick" => PageEvent::Tick,
        "exit_intent" => PageEvent::ExitIntent,
        "tab_return" => PageEvent::TabReturn,
        other => PageEvent::Track { event: other.to_owned() },
    }
}

/// Runs one case; every mismatch as `step N: …`.
fn run(bot: &Bot, case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let mut now = START_MS;
    let mut state = bot.new_state("en", 1, now);
    for (n, step) in case.steps.iter().enumerate() {
        let n = n + 1;
        if let Some(wait) = &step.wait {
            now += parse_wait(wait).unwrap_or_else(|e| panic!("{}: step {n}: {e}", case.name));
        }
        if step.reload {
            state = ConversationState::from_json(&state.to_json(), &bot.definition().id).expect("state reloads");
        }
        if step.visit {
            bot.begin_visit(&mut state, now);
        }
        match step.action.as_deref() {
            None => {}
            Some("dismiss") => bot.dismiss_teaser(&mut state),
            Some("no_tips") => bot.no_tips(&mut state, now),
            Some("forget_tips") => {
                assert!(state.profile.forget(sottovoce::NO_TIPS_FACT, "yes"), "{}: step {n}: no tips to forget", case.name)
            }
            Some(track) if track.starts_with("track ") => {
                let (event, name) = track["track ".len()..].split_once(' ').unwrap_or((&track["track ".len()..], ""));
                assert!(bot.track(&mut state, event, name, now), "{}: step {n}: `{track}` was not kept", case.name);
            }
            Some(open) if open.starts_with("open ") => {
                let id = &open["open ".len()..];
                let before = state.transcript.len();
                match bot.open_teaser(&mut state, id, now) {
                    Some(m) if state.transcript.len() == before + 1 && state.transcript[before].text == m.text => {}
                    other => problems.push(format!("step {n}: open {id}: {other:?}, transcript {} → {}", before, state.transcript.len())),
                }
            }
            Some(other) => panic!("{}: step {n}: unknown action `{other}`", case.name),
        }
        let Some(name) = &step.event else { continue };
        let page = PageContext {
            url: step.url.clone(),
            time_on_page_ms: step.on_page_s * 1000,
            scroll_pct: step.scroll_pct,
            idle_ms: step.idle_s * 1000,
            typing: step.typing,
            chat_open: step.chat_open,
            now_ms: now,
            utc_offset_min: step.utc_offset_min,
        };
        let teaser = bot.proactive(&mut state, &event(name), &page);
        let shown = teaser.as_ref().map_or("none", |t| t.trigger.as_str());
        let expected = step.shows.as_deref().unwrap_or("none");
        if shown != expected {
            problems.push(format!("step {n} ({name}): expected {expected}, shown {shown}"));
        }
        if let (Some(text), Some(t)) = (&step.text, &teaser) {
            if !t.message.text.contains(text.as_str()) {
                problems.push(format!("step {n}: teaser text {:?} lacks {text:?}", t.message.text));
            }
        }
    }
    problems
}

#[test]
fn proactive_fixtures() {
    let dir = root().join("tests/fixtures/proactive");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "yaml"));
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut failures = Vec::new();
    let mut cases = 0;
    for path in files {
        let file: File = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut definition: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root().join(&file.bot)).unwrap()).unwrap();
        if let Some(triggers) = &file.triggers {
            definition["triggers"] = triggers.clone();
        }
        let trained = Bot::from_json(&definition.to_string()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let loaded = Bot::from_model(&trained.to_model()).unwrap();
        for case in &file.cases {
            cases += 1;
            for (how, bot) in [("trained", &trained), ("model", &loaded)] {
                for p in run(bot, case) {
                    failures.push(format!("{} / {} ({how}): {p}", path.file_name().unwrap().to_string_lossy(), case.name));
                }
            }
        }
    }
    assert!(cases > 0);
    assert!(failures.is_empty(), "{} problem(s):\n{}", failures.len(), failures.join("\n"));
}

/// Found by the e2e test: "no tips" expired at `u64::MAX`, which the browser cannot store as a
/// JSON number, so the whole state failed to save and the tips came back on the next page.
/// Every number in a state after no tips fits JavaScript's exact integers.
#[test]
fn no_tips_is_stored_as_numbers_the_browser_can_keep() {
    let bot = Bot::from_json(&std::fs::read_to_string(root().join("www/bots/store.json")).unwrap()).unwrap();
    let mut state = bot.new_state("en", 1, START_MS);
    bot.no_tips(&mut state, START_MS);
    assert!(bot.tips_off(&state));
    let value: serde_json::Value = serde_json::from_str(&state.to_json()).unwrap();
    fn too_big(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Number(n) if n.as_u64().is_some_and(|n| n > (1 << 53) - 1) && path != ".rng" => out.push(path.to_owned()),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| too_big(v, &format!("{path}.{k}"), out)),
            serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| too_big(v, &format!("{path}[{i}]"), out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    too_big(&value, "", &mut out);
    assert!(out.is_empty(), "beyond 2^53 - 1 (only the rng is stored exactly, as text): {out:?}");
}
