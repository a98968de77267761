//! The binding in headless Chromium: a chat round trip on a small bot, persistence in
//! `localStorage`, and the silent fallbacks (corrupt entry, storage that refuses writes).
//!
//! Run with `make test-wasm` (wasm-bindgen-test-runner drives Chromium through chromedriver).

#![cfg(target_arch = "wasm32")]

use serde_json::{json, Value};
use sottovoce_wasm::Chat;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A two-locale bot with a form, a handoff, a remembered name and a fallback.
const MINI: &str = include_str!("fixtures/mini.json");

/// 2026-01-01T00:00:00Z in ms: tests pass their own clock.
const T0: f64 = 1_767_225_600_000.0;
const HOUR: f64 = 3_600_000.0;

fn chat(key: &str, extra: Value) -> Chat {
    let mut options = json!({ "locale": "en-US", "storageKey": key, "now": T0, "seed": 7 });
    options.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    match Chat::new(MINI.as_bytes(), Some(js(&options).unchecked_into())) {
        Ok(chat) => chat,
        Err(e) => panic!("Chat::new failed: {:?}", JsValue::from(e)),
    }
}

/// JSON as a plain JavaScript value (objects, not `Map`s), as a page would pass it.
fn js(value: &Value) -> JsValue {
    use serde::Serialize as _;
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap()
}

/// A returned JavaScript value as JSON, for assertions.
fn plain(value: impl Into<JsValue>) -> Value {
    serde_wasm_bindgen::from_value(value.into()).unwrap()
}

fn storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

fn ids(messages: &Value) -> Vec<String> {
    messages.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect()
}

#[wasm_bindgen_test]
fn round_trip_answers_fills_the_form_and_records_the_transcript() {
    storage().remove_item("test:round").unwrap();
    let mut chat = chat("test:round", json!({}));
    assert_eq!(chat.bot_name(), "Mini Shop Assistant");
    assert_eq!(chat.locale(), "en");
    assert_eq!(chat.source(), "definition");

    let greeting = plain(chat.begin(T0).unwrap());
    assert_eq!(ids(&greeting), ["greeting"]);

    let turn = plain(chat.send("how much do you charge to deliver?".into(), T0 + 1000.0, Some(0)).unwrap());
    assert_eq!(turn["intent"], "shipping_cost", "{turn}");
    assert!(turn["confidence"].as_f64().unwrap() > 0.0);
    assert_eq!(turn["ranking"][0]["intent"], "shipping_cost");
    assert_eq!(turn["messages"][0]["links"][0]["url"], "https://shop.example/shipping");

    let turn = plain(chat.choose("Track an order".into(), Some("order_status".into()), T0 + 2000.0, Some(0), None).unwrap());
    assert_eq!(turn["intent"], "order_status");
    assert_eq!(turn["confidence"], Value::Null);
    assert_eq!(ids(&turn["messages"]), ["ask-order-number"]);

    let turn = plain(chat.send("it is 12".into(), T0 + 3000.0, Some(0)).unwrap());
    assert!(ids(&turn["messages"]).contains(&"bad-order-number".to_owned()), "{turn}");

    let turn = plain(chat.send("sure, it's ab-123456".into(), T0 + 4000.0, Some(0)).unwrap());
    assert_eq!(turn["entities"][0]["value"], "AB-123456", "{turn}");
    let done = &turn["messages"][0];
    assert_eq!(done["id"], "order-found");
    assert_eq!(done["links"][0]["url"], "https://shop.example/track/AB-123456");

    let transcript = plain(chat.transcript().unwrap());
    let from: Vec<&str> = transcript.as_array().unwrap().iter().map(|e| e["from"].as_str().unwrap()).collect();
    assert_eq!(from.first(), Some(&"bot"));
    assert_eq!(from.iter().filter(|f| **f == "visitor").count(), 4, "{transcript}");
    assert_eq!(transcript.as_array().unwrap().last().unwrap()["text"], done["text"]);
}

#[wasm_bindgen_test]
fn asking_for_a_person_answers_with_the_contact_options() {
    let mut chat = chat("test:human", json!({ "persist": false }));
    chat.begin(T0).unwrap();
    let turn = plain(chat.send("could I talk to an actual person please".into(), T0, Some(0)).unwrap());
    assert_eq!(turn["intent"], "human", "{turn}");
    assert_eq!(turn["handoff"], true);
    let text = turn["messages"][0]["text"].as_str().unwrap();
    assert!(text.contains("help@shop.example"), "{text}");
}

#[wasm_bindgen_test]
fn conversation_survives_a_new_chat_with_the_same_key() {
    let key = "test:persist";
    storage().remove_item(key).unwrap();
    let mut first = chat(key, json!({}));
    assert_eq!(first.storage_status(), "local");
    first.begin(T0).unwrap();
    let turn = plain(first.send("my name is Ana".into(), T0 + 1000.0, Some(0)).unwrap());
    assert_eq!(turn["intent"], "tell_name", "{turn}");
    let stored = storage().get_item(key).unwrap().expect("state written to localStorage");
    assert!(stored.contains("Ana"), "{stored}");
    let before = plain(first.transcript().unwrap());
    drop(first);

    let mut second = chat(key, json!({ "now": T0 + 2.0 * HOUR }));
    assert_eq!(plain(second.transcript().unwrap()), before);
    assert_eq!(plain(second.profile().unwrap())["name"], "Ana");
    let greeting = plain(second.begin(T0 + 2.0 * HOUR).unwrap());
    assert_eq!(ids(&greeting), ["greeting-returning"]);
    assert!(greeting[0]["text"].as_str().unwrap().contains("Ana"), "{greeting}");
    assert_eq!(plain(second.profile().unwrap())["visits"], 2);

    second.reset(T0 + 3.0 * HOUR).unwrap();
    let after = plain(second.transcript().unwrap());
    assert_eq!(after.as_array().unwrap().len(), 1, "only the new greeting: {after}");
    assert_eq!(plain(second.profile().unwrap())["name"], Value::Null);
}

#[wasm_bindgen_test]
fn default_key_is_namespaced_and_versioned() {
    let key = "sottovoce:v1:mini-shop";
    storage().remove_item(key).unwrap();
    let options = js(&json!({ "locale": "es-MX" }));
    let mut chat = Chat::new(MINI.as_bytes(), Some(options.unchecked_into())).map_err(JsValue::from).unwrap();
    assert_eq!(chat.locale(), "es");
    let greeting = plain(chat.begin(T0).unwrap());
    assert!(greeting[0]["text"].as_str().unwrap().starts_with("¡Hola!"), "{greeting}");
    assert!(storage().get_item(key).unwrap().is_some());
    storage().remove_item(key).unwrap();
}

#[wasm_bindgen_test]
fn corrupt_or_foreign_entries_start_a_clean_conversation() {
    let key = "test:corrupt";
    for bad in [
        "{not json",
        "null",
        r#"{"version":1}"#,
        r#"{"version":1,"bot_id":"another-bot","transcript":[],"form":null,"profile":{"name":"X","locale":"en","visits":1,"first_seen_ms":0,"last_seen_ms":0},"rng":1,"fallbacks_in_a_row":0}"#,
    ] {
        storage().set_item(key, bad).unwrap();
        let mut chat = chat(key, json!({}));
        assert_eq!(chat.storage_status(), "local", "{bad}");
        assert_eq!(plain(chat.transcript().unwrap()), json!([]), "{bad}");
        assert_eq!(ids(&plain(chat.begin(T0).unwrap())), ["greeting"], "{bad}");
        let stored = storage().get_item(key).unwrap().unwrap();
        let stored: Value = serde_json::from_str(&stored).expect("the bad entry was overwritten");
        assert_eq!(stored["bot_id"], "mini-shop");
    }
    storage().remove_item(key).unwrap();
}

#[wasm_bindgen_test]
fn a_state_from_a_newer_version_is_kept_and_the_chat_runs_in_memory() {
    // Written by a newer widget on the same site (issue 21 item 6): refused, never overwritten,
    // so that version still finds it; this page chats without remembering.
    let key = "test:newer";
    let newer = r#"{"version":99,"bot_id":"mini-shop"}"#;
    storage().set_item(key, newer).unwrap();
    let mut chat = chat(key, json!({}));
    assert_eq!(chat.storage_status(), "memory");
    assert_eq!(ids(&plain(chat.begin(T0).unwrap())), ["greeting"]);
    assert_eq!(storage().get_item(key).unwrap().as_deref(), Some(newer), "kept byte for byte");
    storage().remove_item(key).unwrap();
}

#[wasm_bindgen_test]
fn storage_that_refuses_writes_falls_back_to_memory_and_keeps_messages() {
    let prototype = js_sys::Reflect::get(&js_sys::global(), &"Storage".into()).unwrap();
    let prototype = js_sys::Reflect::get(&prototype, &"prototype".into()).unwrap();
    let original = js_sys::Reflect::get(&prototype, &"setItem".into()).unwrap();
    let full = js_sys::Function::new_no_args("throw new DOMException('full', 'QuotaExceededError')");
    js_sys::Reflect::set(&prototype, &"setItem".into(), &full).unwrap();

    let mut chat = chat("test:full", json!({}));
    let status = chat.storage_status();
    chat.begin(T0).unwrap();
    let turn = chat.send("how much is shipping".into(), T0 + 1000.0, Some(0)).map(plain);
    let transcript = plain(chat.transcript().unwrap());
    js_sys::Reflect::set(&prototype, &"setItem".into(), &original).unwrap();

    assert_eq!(status, "memory");
    assert_eq!(turn.unwrap()["intent"], "shipping_cost");
    assert_eq!(transcript.as_array().unwrap().len(), 3, "{transcript}");
    assert!(storage().get_item("test:full").unwrap().is_none());
}

#[wasm_bindgen_test]
fn a_bad_bot_file_is_an_error_with_the_cores_message() {
    for bytes in [&b"SVM\0\x63\x00"[..], b"{\"format\": 1", b"\xff\xfe"] {
        let error = match Chat::new(bytes, None) {
            Ok(_) => panic!("{bytes:?} loaded"),
            Err(e) => JsValue::from(e).dyn_into::<js_sys::Error>().unwrap(),
        };
        let message = String::from(error.message());
        assert!(message.contains("model file") || message.contains("definition"), "{message}");
    }
}

#[wasm_bindgen_test]
fn a_compiled_model_loads_and_answers_like_its_definition() {
    let model = sottovoce::Bot::from_json(MINI).unwrap().to_model();
    let options = js(&json!({ "persist": false, "now": T0, "seed": 7 }));
    let mut from_model = Chat::new(&model, Some(options.unchecked_into())).map_err(JsValue::from).unwrap();
    let mut from_definition = chat("test:model", json!({ "persist": false }));
    assert_eq!(from_model.source(), "model");
    assert_eq!(from_model.storage_status(), "memory");
    for text in ["what does shipping cost", "where's my parcel", "hola"] {
        let a = plain(from_model.send(text.into(), T0, Some(0)).unwrap());
        let b = plain(from_definition.send(text.into(), T0, Some(0)).unwrap());
        assert_eq!(a["intent"], b["intent"], "{text}");
        assert_eq!(a["messages"], b["messages"], "{text}");
    }
}

#[wasm_bindgen_test]
fn an_escalation_is_redacted_retried_and_survives_a_reload_with_agent_messages() {
    let key = "test:escalation";
    storage().remove_item(key).unwrap();
    storage().remove_item(&format!("{key}:escalation")).unwrap();
    let mut first = chat(key, json!({}));
    first.begin(T0).unwrap();
    first.send("my card is 4111-1111-1111-1111".into(), T0 + 1000.0, Some(0)).unwrap();
    let turn = plain(first.send("could I talk to an actual person please".into(), T0 + 2000.0, Some(0)).unwrap());
    assert_eq!(turn["handoff"], true, "{turn}");
    let policy = js(&json!({ "profile_fields": ["locale"], "redact": [] }));
    let preview = plain(first.escalation_preview(Some(policy.clone().unchecked_into())).unwrap());
    assert!(!preview.to_string().contains("4111"), "{preview}");
    assert_eq!(preview["profile"], json!({ "locale": "en" }));
    let visitor_lines: Vec<&Value> =
        preview["transcript"].as_array().unwrap().iter().filter(|m| m["author"] == "visitor").collect();
    assert_eq!(visitor_lines.len(), 2, "{preview}");
    assert_eq!(visitor_lines[1]["intent"], "human", "{preview}");
    assert!(visitor_lines[0]["text"].as_str().unwrap().contains("[redacted card number]"), "{preview}");
    assert!(plain(first.escalation().unwrap()).is_null());

    first.escalation_queue("key-0123456789abcdef", T0 + 3000.0, Some(policy.unchecked_into())).unwrap();
    assert!(first.escalation_due(T0 + 3000.0));
    assert_eq!(first.escalation_sending(T0 + 3000.0).unwrap(), 1);
    // No answer (status 0): the core's delivery machine says when to retry.
    let step = plain(first.escalation_outcome(0, None, T0 + 3100.0).unwrap());
    assert_eq!(step["step"], "wait_until", "{step}");
    let retry = step["at_ms"].as_f64().unwrap();
    assert!((T0 + 3600.0..=T0 + 4100.0).contains(&retry), "first retry after 0.5 to 1 s: {}", retry - T0);
    assert!(!first.escalation_due(retry - 1.0));
    first.escalation_message("are you there?", T0 + 3200.0).unwrap();
    drop(first);

    // A reload: the queue, the failure and the waiting message are all still there.
    let mut second = chat(key, json!({}));
    let e = plain(second.escalation().unwrap());
    assert_eq!(e["status"]["state"], "failed", "{e}");
    assert_eq!(e["outbox"][0]["text"], "are you there?");
    assert!(second.escalation_due(retry));
    second.escalation_sending(retry).unwrap();
    second.escalation_sent("c_1", "tok", retry + 50.0).unwrap();
    let client_id = e["outbox"][0]["client_id"].as_str().unwrap().to_owned();
    second.escalation_delivered(&client_id).unwrap();
    assert!(second.add_agent_message(7.0, "Hi, this is Luis.", retry + 100.0).unwrap());
    assert!(!second.add_agent_message(7.0, "Hi, this is Luis.", retry + 100.0).unwrap(), "a replayed event is ignored");
    drop(second);

    let third = chat(key, json!({}));
    let e = plain(third.escalation().unwrap());
    assert_eq!(e["status"]["state"], "sent");
    assert_eq!(e["outbox"], json!([]));
    let transcript = plain(third.transcript().unwrap());
    let last = transcript.as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from"].as_str(), last["text"].as_str()), (Some("agent"), Some("Hi, this is Luis.")));
}

#[wasm_bindgen_test]
fn set_locale_is_the_visitors_choice_and_is_saved() {
    storage().remove_item("test:locale").unwrap();
    let mut first = chat("test:locale", json!({}));
    assert_eq!(first.locales(), ["en", "es"]);
    assert!(first.set_locale("it").is_err());
    assert_eq!(first.locale(), "en");
    assert_eq!(first.set_locale("ES").unwrap(), "es");
    let again = chat("test:locale", json!({}));
    assert_eq!(again.locale(), "es");
    let profile = plain(again.profile().unwrap());
    assert_eq!(profile["locale_chosen"], true, "{profile}");
}

/// The stored entry under `key`, read by serde_json (exact 64-bit integers).
fn stored(key: &str) -> Value {
    serde_json::from_str(&storage().get_item(key).unwrap().expect("an entry")).expect("stored JSON")
}

#[wasm_bindgen_test]
fn a_reload_keeps_the_64_bit_random_states_exactly_and_reads_what_serde_json_wrote() {
    // The same conversation and escalation twice: straight through, and with a reload in the
    // middle whose entries were rewritten by the core's serde_json writer (what earlier
    // versions of the binding stored). Both must end in the same stored JSON.
    const FIRST: [&str; 2] = ["hi there", "could I talk to an actual person please"];
    const SECOND: [&str; 2] = ["how much is shipping", "thanks"];
    let keys = ["test:rng-straight", "test:rng-reloaded"];
    for key in keys {
        storage().remove_item(key).unwrap();
        storage().remove_item(&format!("{key}:escalation")).unwrap();
    }
    let policy = || Some(js(&json!({ "profile_fields": [], "redact": [] })).unchecked_into());
    let first_half = |chat: &mut Chat| {
        chat.begin(T0).unwrap();
        for (i, text) in FIRST.iter().enumerate() {
            chat.send((*text).into(), T0 + 1000.0 * (i + 1) as f64, Some(0)).unwrap();
        }
        chat.escalation_queue("key-0123456789abcdef", T0 + 5000.0, policy()).unwrap();
    };
    let second_half = |chat: &mut Chat| {
        for (i, text) in SECOND.iter().enumerate() {
            chat.send((*text).into(), T0 + 10_000.0 * (i + 1) as f64, Some(0)).unwrap();
        }
        chat.escalation_sending(T0 + 30_000.0).unwrap();
        chat.escalation_outcome(0, None, T0 + 31_000.0).unwrap();
    };
    let mut straight = chat(keys[0], json!({}));
    first_half(&mut straight);
    second_half(&mut straight);

    let mut reloaded = chat(keys[1], json!({}));
    first_half(&mut reloaded);
    drop(reloaded);
    let text = storage().get_item(keys[1]).unwrap().unwrap();
    let state = sottovoce::ConversationState::from_json(&text, "mini-shop").expect("serde_json reads the entry");
    assert!(state.rng > 1 << 53, "the test needs a random state beyond JavaScript's exact integers");
    storage().set_item(keys[1], &state.to_json()).unwrap();
    let escalation_key = format!("{}:escalation", keys[1]);
    let text = storage().get_item(&escalation_key).unwrap().unwrap();
    let escalation: sottovoce::escalation::Escalation = serde_json::from_str(&text).expect("serde_json reads the escalation");
    assert!(escalation.rng > 1 << 53);
    storage().set_item(&escalation_key, &serde_json::to_string(&escalation).unwrap()).unwrap();
    let mut reloaded = chat(keys[1], json!({}));
    second_half(&mut reloaded);

    assert_eq!(stored(keys[1]), stored(keys[0]));
    assert_eq!(stored(&escalation_key), stored(&format!("{}:escalation", keys[0])));
}
