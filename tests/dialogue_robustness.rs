//! Nothing a visitor types crashes the bot or goes unanswered: hostile and odd inputs, in and
//! out of a form, through both shipped bots, with a stored state that went through JSON.

use sottovoce::{Bot, ConversationState, Input, TurnContext};

fn inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        "🙂🙂🙂",
        "ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ",
        "مرحبا، أين طلبي؟",
        "<script>alert(1)</script>",
        "{ $name } {{order_number}} %s %n",
        "\u{0}\u{7}\u{202e}reversed",
        "a",
        "?",
        "CU-000000 CU-999999 cu123456 help@example.com +1 555 0100",
        "   leading and trailing   ",
        "line one\nline two\r\nline three",
        "NEVER MIND",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("where is my order ".repeat(2_000));
    v.push("x".repeat(100_000));
    v
}

fn check(file: &str) {
    let bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let bot = Bot::load(&bytes).unwrap();
    let id = bot.definition().id.clone();
    let track = bot
        .definition()
        .intents
        .iter()
        .find(|i| i.form.is_some())
        .map(|i| i.name.clone());
    let mut now = 1_780_000_000_000;
    for mid_form in [false, true] {
        for text in inputs() {
            let mut state = bot.new_state("en", 3, now);
            bot.begin_visit(&mut state, now);
            if mid_form {
                let turn = bot.respond(
                    &mut state,
                    Input::QuickReply {
                        label: "Track".into(),
                        intent: track.clone(),
                        locale: None,
                    },
                    TurnContext::utc(now),
                );
                assert!(!turn.messages.is_empty());
            }
            now += 1_000;
            let turn = bot.respond(&mut state, Input::Text { text: text.clone() }, TurnContext::utc(now));
            let preview: String = text.chars().take(40).collect();
            assert!(
                !turn.messages.is_empty(),
                "{file}: no answer to {preview:?} (mid-form {mid_form})"
            );
            for m in &turn.messages {
                assert!(
                    !m.text.trim().is_empty(),
                    "{file}: empty message {} for {preview:?}",
                    m.id
                );
                for link in &m.links {
                    assert!(
                        sottovoce::dialogue::is_allowed_url(&link.url),
                        "{file}: link {}",
                        link.url
                    );
                }
            }
            let stored = state.to_json();
            let back = ConversationState::from_json(&stored, &id).unwrap();
            assert_eq!(
                back, state,
                "{file}: state changed through JSON after {preview:?}"
            );
            // A button from another version of the bot, and an empty label, are answered too.
            let turn = bot.respond(
                &mut state,
                Input::QuickReply {
                    label: "Old button".into(),
                    intent: Some("no_such_intent".into()),
                    locale: None,
                },
                TurnContext::utc(now),
            );
            assert!(!turn.messages.is_empty());
            let turn = bot.respond(
                &mut state,
                Input::QuickReply {
                    label: " ".into(),
                    intent: None,
                    locale: None,
                },
                TurnContext::utc(now),
            );
            assert!(turn.messages.is_empty(), "whitespace is not a message");
        }
    }
}

#[test]
fn the_mini_bot_answers_everything() {
    check("tests/fixtures/bots/mini.json");
}

#[test]
fn the_store_bot_answers_everything() {
    check("www/bots/store.json");
}
