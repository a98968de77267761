//! The injection corpus (`tests/fixtures/injection/corpus.json`, issue 21 item 5) through the
//! core: the link allowlist ([`sottovoce::is_allowed_url`]) decides every URL form as the
//! fixture says, an owner link the allowlist refuses fails validation, and every payload an
//! owner writes (reply text, quick reply label, link label) reaches the turn as the same plain
//! text: the core neither runs nor rewrites it, the widget and the inbox draw it as text.
//! The same corpus runs in the browser in `tests/e2e/injection.test.mjs`.

use serde::Deserialize;
use serde_json::json;
use sottovoce::{Bot, Input, TurnContext};

#[derive(Deserialize)]
struct Corpus {
    payloads: Vec<String>,
    links: Vec<LinkCase>,
}

#[derive(Deserialize)]
struct LinkCase {
    url: String,
    core: bool,
}

fn corpus() -> Corpus {
    serde_json::from_str(include_str!("fixtures/injection/corpus.json")).expect("corpus.json parses")
}

/// Owner text as a Fluent message: braces (placeables) escaped as string literals.
fn fluent_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '{' => r#"{"{"}"#.to_owned(),
            '}' => r#"{"}"}"#.to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A one-intent bot whose reply is `text`, with a quick reply labelled `label` and a link
/// labelled `label` pointing at `url`.
fn bot_json(text: &str, label: &str, url: &str) -> String {
    json!({
        "format": 1, "id": "injection", "name": "Injection", "locales": ["en"],
        "intents": [
            { "name": "attack", "examples": { "en": ["attack", "show the attack", "run the attack", "attack please"] },
              "reply": { "message": "attack-reply", "links": [{ "label": "link-label", "url": url }],
                         "quick_replies": [{ "label": "qr-label", "intent": "other" }] } },
            { "name": "other", "examples": { "en": ["hello", "hi there", "good morning", "hey"] },
              "reply": { "message": "other-reply" } }
        ],
        "fallback": { "message": "other-reply" },
        "greeting": { "message": "other-reply", "returning": "other-reply" },
        "messages": { "en": {
            "attack-reply": fluent_text(text), "link-label": fluent_text(label), "qr-label": fluent_text(label),
            "other-reply": "Hi."
        } }
    })
    .to_string()
}

#[test]
fn the_link_allowlist_decides_every_form_as_the_corpus_says() {
    let wrong: Vec<String> = corpus()
        .links
        .iter()
        .filter(|c| sottovoce::is_allowed_url(&c.url) != c.core)
        .map(|c| format!("{:?}: expected {}", c.url, c.core))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn an_owner_link_the_allowlist_refuses_fails_validation() {
    for case in corpus().links {
        let built = Bot::from_json(&bot_json("See the link.", "Open", &case.url));
        assert_eq!(built.is_ok(), case.core, "{:?}: {:?}", case.url, built.err().map(|e| e.to_string()));
    }
}

#[test]
fn owner_payloads_reach_the_turn_as_the_same_plain_text() {
    for payload in corpus().payloads {
        let bot = Bot::from_json(&bot_json(&payload, &payload, "https://ok.example/")).unwrap_or_else(|e| panic!("{payload:?}: {e}"));
        let mut state = bot.new_state("en", 1, 1_796_342_400_000);
        let turn = bot.respond(&mut state, Input::Text { text: "attack".into() }, TurnContext::utc(1_796_342_400_000));
        let message = &turn.messages[0];
        // Fluent trims the ends of a message and wraps placeables in bidi isolates when asked;
        // the text must still be the payload's characters, nothing added but isolation marks.
        let clean = |s: &str| s.replace(['\u{2068}', '\u{2069}'], "").trim().to_owned();
        assert_eq!(clean(&message.text), clean(&payload), "reply text");
        assert_eq!(clean(&message.links[0].label), clean(&payload), "link label");
        assert_eq!(message.links[0].url, "https://ok.example/");
        assert_eq!(clean(&message.quick_replies[0].label), clean(&payload), "quick reply label");
    }
}
