//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs`), shared with the crash-regression
//! test (`tests/fuzz_regressions.rs`), so a crash input stored under `tests/fixtures/fuzz/<target>/`
//! runs the very code the fuzzer ran, under plain `cargo test`.
//!
//! Each function takes the fuzzer's raw bytes, never returns an error and panics only when an
//! invariant breaks (a panic is what libFuzzer reports as a crash). The invariants checked:
//! parsing and loading give typed errors, never panics; a loaded state survives a turn and its
//! JSON round trip; entity spans are char offsets inside the text with `raw` equal to the span.

#![allow(dead_code)]

use std::sync::OnceLock;

use sottovoce::definition::EntityDef;
use sottovoce::entities::{EntityExtractor, ExtractContext};
use sottovoce::protocol::{EscalationRequest, VisitorMessage, PROFILE_FIELDS};
use sottovoce::{Bot, ConversationState, Input, TurnContext};

/// Every target name, as `fuzz/Cargo.toml` lists them and `tests/fixtures/fuzz/` names its folders.
pub(crate) const TARGETS: [&str; 6] = ["definition", "model", "state", "respond", "entities", "protocol"];

/// Runs target `name` on `data`.
///
/// # Panics
/// On an unknown name, and wherever the target finds a broken invariant.
pub(crate) fn run(name: &str, data: &[u8]) {
    match name {
        "definition" => definition(data),
        "model" => model(data),
        "state" => state(data),
        "respond" => respond(data),
        "entities" => entities(data),
        "protocol" => protocol(data),
        _ => panic!("unknown fuzz target {name}"),
    }
}

/// The small two-locale bot of the tests (`tests/fixtures/bots/mini.json`), trained once.
pub(crate) fn mini() -> &'static Bot {
    static BOT: OnceLock<Bot> = OnceLock::new();
    BOT.get_or_init(|| Bot::from_json(include_str!("../fixtures/bots/mini.json")).expect("mini bot trains"))
}

/// The mini bot's compiled model file.
fn mini_model() -> &'static [u8] {
    static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
    MODEL.get_or_init(|| mini().to_model())
}

/// 2026-12-04T00:00Z: a fixed clock for every target.
const NOW_MS: u64 = 1_796_342_400_000;

/// One visitor turn on `bot` with a fresh state, then a second one, checking the turn's shape.
fn two_turns(bot: &Bot, text: &str) {
    let mut state = bot.new_state("en", 1, NOW_MS);
    for at in [NOW_MS, NOW_MS + 1_000] {
        let turn = bot.respond(&mut state, Input::Text { text: text.to_owned() }, TurnContext::new(at, 60));
        if let Some(c) = turn.nlu.as_ref().map(|n| n.confidence) {
            assert!((0.0..=1.0 + 1e-6).contains(&c), "confidence {c} outside [0, 1]");
        }
    }
    let json = state.to_json();
    let back = ConversationState::from_json(&json, &bot.definition().id).expect("a state the bot wrote loads again");
    assert_eq!(back.to_json(), json, "state JSON round trip");
}

/// Definition JSON → validation and training; a bot that trains answers two turns.
pub(crate) fn definition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(bot) = Bot::from_json(text) {
        two_turns(&bot, "hello, where is my order?");
    }
}

/// Model bytes → load. The first byte picks the mode: even = the bytes as they are; odd = the
/// mini bot's valid model with the rest read as (offset u16, xor byte) edits and, when the
/// byte's second bit is set, cut at the last offset: so the fuzzer reaches past the header.
pub(crate) fn model(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut bytes = mini_model().to_vec();
        let mut cut = bytes.len();
        for edit in rest.chunks_exact(3) {
            let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % bytes.len();
            bytes[at] ^= edit[2];
            cut = at;
        }
        if mode & 2 != 0 {
            bytes.truncate(cut);
        }
        bytes
    };
    if let Ok(bot) = Bot::from_model(&bytes) {
        two_turns(&bot, "hola, dónde está mi pedido");
    }
}

/// Stored state JSON → load (for the mini bot) and one turn; a state that loads survives the
/// turn and a JSON round trip.
pub(crate) fn state(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let bot = mini();
    let Ok(mut state) = ConversationState::from_json(text, "mini") else { return };
    let turn = bot.respond(&mut state, Input::Text { text: "where is my order".into() }, TurnContext::new(NOW_MS, 0));
    assert!(!turn.messages.is_empty(), "a turn on a loaded state says something");
    let json = state.to_json();
    let back = ConversationState::from_json(&json, "mini").expect("a state the bot wrote loads again");
    assert_eq!(back, state, "state round trip");
}

/// Visitor text → understand and respond. The first byte `k` repeats the text `2^(k % 16)`
/// times (capped at 16 KiB, 16 times the longest turn the widget sends) for very long input; the rest is the text (invalid UTF-8 replaced).
pub(crate) fn respond(data: &[u8]) {
    let Some((&k, rest)) = data.split_first() else { return };
    let piece = String::from_utf8_lossy(rest);
    let times = (1usize << (k % 16)).min((16 * 1024) / piece.len().max(1)).max(1);
    let text = piece.repeat(times);
    let bot = mini();
    let nlu = bot.understand(&text);
    assert!(nlu.ranking.len() <= 5);
    check_spans(&text, &nlu.entities);
    two_turns(bot, &text);
}

/// The owner entities every extraction also runs: a pattern with a group and a fuzzy list.
fn owner_entities() -> &'static EntityExtractor {
    static EXTRACTOR: OnceLock<EntityExtractor> = OnceLock::new();
    EXTRACTOR.get_or_init(|| {
        let defs: Vec<EntityDef> = serde_json::from_str(
            r#"[{"kind": "pattern", "name": "order_number", "pattern": "(?i)\\b(cu-?\\d{6})\\b", "group": 1, "uppercase": true},
                {"kind": "list", "name": "item", "values": [{"value": "jacket", "synonyms": ["rain jacket", "chaqueta"]},
                 {"value": "boots", "synonyms": ["hiking boots", "botas"]}]}]"#,
        )
        .expect("entity definitions parse");
        EntityExtractor::new(&defs).expect("entity patterns compile")
    })
}

/// Locales the extractors know words for, plus "any" and one they do not.
const LOCALES: [&str; 8] = ["", "en", "es", "fr", "de", "pt", "ar", "ja"];

/// Every entity extractor (all built-ins run on each call, plus an owner pattern and list):
/// byte 0 picks the locale, bytes 1–2 the visitor's UTC offset and whether "now" is known, the
/// rest is the text. Spans must be char offsets with `raw` equal to the text they cover.
pub(crate) fn entities(data: &[u8]) {
    let [l, o1, o2, rest @ ..] = data else { return };
    let offset = i32::from(i16::from_le_bytes([*o1, *o2]) % (15 * 60));
    let now_ms = (o2 & 0x80 == 0).then_some(NOW_MS);
    let ctx = ExtractContext { locale: LOCALES[usize::from(*l) % LOCALES.len()], now_ms, utc_offset_min: offset, written: LOCALES[usize::from(*o1) % LOCALES.len()] };
    let text = String::from_utf8_lossy(rest);
    let found = owner_entities().extract_with(&text, &ctx);
    check_spans(&text, &found);
}

/// Each entity's `start..end` is a char range of `text` and `raw` is exactly those chars.
pub(crate) fn check_spans(text: &str, found: &[sottovoce::Entity]) {
    let chars: Vec<char> = text.chars().collect();
    for e in found {
        assert!(e.start <= e.end && e.end <= chars.len(), "{e:?} outside {} chars", chars.len());
        let covered: String = chars[e.start..e.end].iter().collect();
        assert_eq!(covered, e.raw, "raw differs from the span of {e:?}");
    }
}

/// The escalation server's request bodies (`POST /api/escalations`, `POST
/// /api/escalations/{id}/messages`) as the server reads them: JSON into the protocol types,
/// then the contract's validation; a body that validates survives a serialize → parse → validate.
pub(crate) fn protocol(data: &[u8]) {
    if let Ok(req) = serde_json::from_slice::<EscalationRequest>(data) {
        if req.validate(&PROFILE_FIELDS).is_ok() {
            let again: EscalationRequest = serde_json::from_str(&serde_json::to_string(&req).expect("serializes")).expect("parses");
            assert!(again.validate(&PROFILE_FIELDS).is_ok(), "a valid request stays valid after a round trip");
        }
    }
    if let Ok(msg) = serde_json::from_slice::<VisitorMessage>(data) {
        if msg.validate().is_ok() {
            let again: VisitorMessage = serde_json::from_str(&serde_json::to_string(&msg).expect("serializes")).expect("parses");
            assert!(again.validate().is_ok(), "a valid message stays valid after a round trip");
        }
    }
}
