//! Very long visitor messages (issue 21): a 256 KiB message is answered quickly, because a turn
//! reads only its first `sottovoce::MAX_TURN_CHARS` chars, and nothing the visitor typed is lost
//! (the transcript keeps the whole message). Cases and the time budget are data:
//! `tests/fixtures/long_messages/cases.json`.

use std::time::{Duration, Instant};

use serde::Deserialize;
use sottovoce::{Bot, Catalog, Input, RankSettings, Ranker, Speaker, TurnContext};

#[derive(Deserialize)]
struct Cases {
    budget_ms: u64,
    bytes: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    piece: String,
}

/// `piece` repeated to at most `bytes` bytes, cut on a char boundary.
fn long_text(piece: &str, bytes: usize) -> String {
    let mut text = piece.repeat(bytes / piece.len() + 1);
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

#[test]
fn a_256_kib_message_is_answered_quickly_and_kept_whole() {
    let cases: Cases =
        serde_json::from_str(include_str!("fixtures/long_messages/cases.json")).expect("cases.json parses");
    let bot = Bot::from_json(include_str!("../www/bots/store.json")).expect("demo bot trains");
    let catalog = Catalog::from_jsonl(include_str!("../www/catalog/cumbre.jsonl")).expect("demo catalog loads");
    let ranker = Ranker::new(catalog, RankSettings::default());
    let budget = Duration::from_millis(cases.budget_ms);
    let mut slowest = Duration::ZERO;
    let mut over = Vec::new();
    for case in &cases.cases {
        let text = long_text(&case.piece, cases.bytes);
        let mut state = bot.new_state("en", 1, 1_796_342_400_000);
        // A short first turn, so the long one is mid-conversation (as a paste usually is).
        bot.respond(&mut state, Input::Text { text: "hi".into() }, TurnContext::new(1_796_342_400_000, 0));
        let started = Instant::now();
        let turn = bot.respond(&mut state, Input::Text { text: text.clone() }, TurnContext::new(1_796_342_401_000, 0));
        let took = started.elapsed();
        assert!(!turn.messages.is_empty(), "{}: the long message gets an answer", case.name);
        let ranked = turn.recommend.as_deref().map(|request| {
            let started = Instant::now();
            let ranked = ranker.rank(request, &state.profile.locale);
            (started.elapsed(), ranked.len())
        });
        eprintln!("{}: turn {took:?}, ranking {:?}", case.name, ranked.map(|r| r.0));
        if took >= budget {
            over.push(format!("{}: the turn took {took:?}", case.name));
        }
        if let Some((rank_took, _)) = ranked {
            if rank_took >= budget {
                over.push(format!("{}: ranking its recommendation took {rank_took:?}", case.name));
            }
            slowest = slowest.max(rank_took);
        }
        slowest = slowest.max(took);
        let kept = state.transcript.iter().find(|e| e.from == Speaker::Visitor && e.text.len() > 1000);
        assert_eq!(kept.map(|e| e.text.as_str()), Some(text.as_str()), "{}: the whole message is in the transcript", case.name);
    }
    eprintln!("slowest: {slowest:?} (budget {budget:?})");
    assert!(over.is_empty(), "over the budget of {budget:?}:\n{}", over.join("\n"));
}
