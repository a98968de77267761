//! The reply locale after one message, for the demo bot, from the fixture of short,
//! ambiguous, clear and explicit messages and messages in languages the bot lacks
//! (`tests/fixtures/lang/store-short.tsv`, also read by `benches/lang.rs`), and what
//! `Bot::detect_language` says of the same messages.

use sottovoce::{Bot, Input, TurnContext, OFFER_MESSAGE_ID};

#[test]
fn the_reply_locale_after_one_message() {
    let bot = Bot::from_json(include_str!("../www/bots/store.json")).expect("the demo bot trains");
    let mut wrong = Vec::new();
    let mut n = 0;
    for line in include_str!("fixtures/lang/store-short.tsv").lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [kind, start, after, text] = cols[..] else { panic!("kind<TAB>start<TAB>after<TAB>text: {line:?}") };
        let has = |code: &str| bot.definition().locales.iter().any(|l| l == code);
        if !(has(start) && has(after)) {
            continue;
        }
        n += 1;
        let mut state = bot.new_state(start, 1, 1_780_000_000_000);
        let turn = bot.respond(&mut state, Input::Text { text: text.to_owned() }, TurnContext::utc(1_780_000_001_000));
        let offered = turn.messages.iter().any(|m| m.id == OFFER_MESSAGE_ID);
        let mut problems = Vec::new();
        if state.profile.locale != after {
            problems.push(format!("replies in {}, expected {after}", state.profile.locale));
        }
        if offered != (kind == "lacks") {
            problems.push(format!("offer of the bot's languages: {offered}"));
        }
        if kind == "clear" && turn.nlu.as_ref().map(|u| u.locale.as_str()) != Some(after) {
            problems.push(format!("detected {:?}", turn.nlu.as_ref().map(|u| &u.locale)));
        }
        // Language detection alone (`Bot::detect_language`) reads the message as the turn did.
        let guess = bot.detect_language(text);
        if turn.nlu.as_ref().is_some_and(|u| u.locale != guess.locale) {
            problems.push(format!("detect_language says {}, the turn {:?}", guess.locale, turn.nlu.as_ref().map(|u| &u.locale)));
        }
        let primary = |code: &str| sottovoce::lang::primary(code).to_owned();
        if kind == "request" && guess.requested.as_deref().map(primary) != Some(primary(after)) {
            problems.push(format!("detect_language's request: {:?}", guess.requested));
        }
        // Written in a language the bot lacks, or asking for one ("can we speak Italian?").
        let lacked = |code: Option<&str>| code.is_some_and(|l| !bot.definition().locales.iter().any(|b| primary(b) == l));
        if kind == "lacks" && !lacked(guess.language.as_deref()) && !lacked(guess.requested.as_deref()) {
            problems.push(format!("detect_language: language {:?}, request {:?}", guess.language, guess.requested));
        }
        if !problems.is_empty() {
            wrong.push(format!("{kind} {start} {text:?}: {}", problems.join("; ")));
        }
    }
    assert!(n >= 40, "{n} rows");
    assert!(wrong.is_empty(), "{} of {n} wrong:\n{}", wrong.len(), wrong.join("\n"));
}
