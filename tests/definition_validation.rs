//! Bot definition errors: every problem is reported with its JSON path, a foreign format
//! version gets its own error, and malformed JSON names the line and column.

use serde_json::{json, Value};
use sottovoce::definition::{BotDefinition, DefinitionError, DEFINITION_FORMAT};
use sottovoce::{Bot, BotError};

fn mini() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bots/mini.json"
    ))
    .expect("mini bot exists");
    serde_json::from_str(&text).expect("mini bot is JSON")
}

fn problems(def: &Value) -> Vec<String> {
    match BotDefinition::from_json(&def.to_string()) {
        Ok(_) => Vec::new(),
        Err(DefinitionError::Invalid(problems)) => {
            problems.iter().map(ToString::to_string).collect()
        }
        Err(other) => panic!("expected DefinitionError::Invalid, got {other}"),
    }
}

fn assert_reports(def: &Value, expected: &[&str]) {
    let got = problems(def);
    for e in expected {
        assert!(
            got.iter().any(|p| p.starts_with(e)),
            "expected a problem starting with {e:?}; got:\n{}",
            got.join("\n")
        );
    }
}

#[test]
fn a_pattern_value_template_names_only_groups_the_pattern_has() {
    let mut def = mini();
    let entities = def["entities"].as_array_mut().expect("the mini bot has entities");
    entities.extend([
        json!({"kind": "pattern", "name": "order_code", "pattern": "(?i)CU[- ]?(?<digits>\\d{6})", "value": "CU-$digits"}),
        json!({"kind": "pattern", "name": "ticket", "pattern": "T(\\d+)", "value": "T-$2 ($$)"}),
        json!({"kind": "pattern", "name": "ref_code", "pattern": "R(\\d+)", "value": "R-${1}"}),
    ]);
    let ticket = entities.len() - 2;
    assert_eq!(problems(&def), [format!("entities[{ticket}].value: `$2` names no group of the pattern")]);
}

#[test]
fn the_mini_bot_is_valid() {
    assert_eq!(problems(&mini()), Vec::<String>::new());
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let mut def = mini();
    def["id"] = json!("Mini Bot");
    def["threshold"] = json!(1.5);
    def["intents"][0]["reply"]["message"] = json!("no-such-message");
    def["intents"][1]["form"] = json!("no_such_form");
    def["intents"][2]["reply"]["links"][0]["url"] = json!("javascript:alert(1)");
    def["intents"][3]["name"] = json!("greet");
    def["intents"][4]["remember_name"] = json!("nickname");
    def["intents"][5]["examples"]["fr"] = json!(["annuler"]);
    def["intents"][6]["reply"]["quick_replies"][0]["intent"] = json!("ghost");
    def["intents"][6]["reply"]["variants"][0] = json!("missing-variant");
    def["entities"][0]["pattern"] = json!("([unclosed");
    def["forms"][0]["slots"][0]["entity"] = json!("zip_code");
    def["forms"][0]["slots"][0]["max_tries"] = json!(0);
    def["forms"][0]["give_up"] = json!("missing-give-up");
    def["forms"][0]["slots"][0]["quick_replies"] = json!([{"label": "missing-button"}]);
    def["forms"][0]["recommend"] = json!("{size} boots");
    def["greeting"]["quick_replies"][0]["label"] = json!("missing-label");
    def["contact"]["email"] = json!("not an address");
    def["fallback"]["suggestions"] = json!(9);
    assert_reports(
        &def,
        &[
            "id:",
            "threshold:",
            "intents[0].reply.message: message id `no-such-message` is not defined in messages.en",
            "intents[1].form: no form named `no_such_form`",
            "intents[2].reply.links[0].url:",
            "intents[3].name: intent `greet` is defined twice",
            "intents[4].remember_name: no entity named `nickname`",
            "intents[5].examples.fr: locale is not listed",
            "intents[6].reply.quick_replies[0].intent: no intent named `ghost`",
            "intents[6].reply.variants[0]: message id `missing-variant`",
            "entities[0].pattern: not a valid regular expression",
            "forms[0].slots[0].entity: no entity named `zip_code`",
            "forms[0].slots[0].max_tries:",
            "forms[0].give_up: message id `missing-give-up`",
            "forms[0].slots[0].quick_replies[0].label: message id `missing-button`",
            "forms[0].recommend: `{size} boots` has a placeholder that is not one of the form's slots",
            "greeting.quick_replies[0].label:",
            "contact.email:",
            "fallback.suggestions:",
        ],
    );
    // All of them at once, not just the first.
    assert!(problems(&def).len() >= 19, "{:#?}", problems(&def));
}

#[test]
fn dialogue_settings_are_checked_with_their_paths() {
    let mut def = mini();
    def["dialogue"] = json!({"memory_turns": 3, "context_turns": 0, "follow_up_confidence": 1.5, "negatives_before_offer": 0, "new_visit_after_min": 0});
    assert_eq!(problems(&def).len(), 4, "{:#?}", problems(&def));
    assert_reports(
        &def,
        &["dialogue.context_turns: must be in [1, 255]", "dialogue.follow_up_confidence: must be in [0, 1]", "dialogue.negatives_before_offer:", "dialogue.new_visit_after_min:"],
    );
    // Format 1's top-level spelling still reads, but not beside the new one.
    def["dialogue"] = json!({"memory_turns": 3});
    assert_eq!(problems(&def), Vec::<String>::new());
    def["memory_turns"] = json!(4);
    assert_reports(&def, &["dialogue.memory_turns: is also set as the top-level `memory_turns`"]);
    def["dialogue"] = json!({});
    assert_eq!(problems(&def), Vec::<String>::new());
}

#[test]
fn greeting_topics_name_a_form_a_message_and_need_a_profile() {
    let mut def = mini();
    let form = def["forms"][0]["name"].as_str().unwrap().to_owned();
    let message = def["greeting"]["message"].as_str().unwrap().to_owned();
    def["greeting"]["topics"] = json!({ form.clone(): message.clone(), "no_such_form": "missing-topic-message" });
    assert_reports(
        &def,
        &[
            "greeting.topics.no_such_form: message id `missing-topic-message`",
            "greeting.topics.no_such_form: no form named `no_such_form`",
            &format!("greeting.topics.{form}: open topics are kept only by a bot with a `profile`"),
        ],
    );
    def["profile"] = json!({ "remember": [] });
    def["greeting"]["topics"] = json!({ form: message });
    assert_eq!(problems(&def), Vec::<String>::new());
}

#[test]
fn facts_are_checked_and_every_message_naming_an_unknown_one_is_reported() {
    let mut def = mini();
    // hours-reply is said by the intent store_hours; greet-reply by greet.
    def["facts"] = json!({"hours": {"en": "9 to 5", "es": "de 9 a 17"}, "return_days": 30});
    def["messages"]["en"]["hours-reply"] = json!("We are open { $fact_hours }; returns within { $fact_return_days } days.");
    assert_eq!(problems(&def), Vec::<String>::new());
    let bot = Bot::from_json(&def.to_string()).unwrap();
    assert_eq!(bot.definition().facts.len(), 2);
    def["messages"]["es"]["hours-reply"] = json!("Abrimos { $fact_horas }.");
    def["messages"]["en"]["greet-reply"] = json!("{ $fact_x -> \n *[a] Hi { NUMBER($fact_y) }\n}");
    def["facts"]["Bad Name"] = json!("x");
    def["facts"]["hours"] = json!({"en": "9 to 5", "fr": "de 9 h à 17 h"});
    assert_reports(
        &def,
        &[
            "messages.es.hours-reply: `$fact_horas` reads the fact `horas`, which `facts` does not define (message `hours-reply` in es, said by intent `store_hours`)",
            "messages.en.greet-reply: `$fact_x` reads the fact `x`",
            "messages.en.greet-reply: `$fact_y` reads the fact `y`",
            "facts.Bad Name: a fact's name must use only a-z, 0-9 and _",
            "facts.hours.fr: locale is not listed in `locales`",
            "facts.hours: no value for locale `es`",
        ],
    );
    assert_eq!(problems(&def).len(), 6, "{:#?}", problems(&def));
}

#[test]
fn actions_need_what_they_use() {
    let mut def = mini();
    def.as_object_mut().unwrap().remove("contact");
    def["intents"][5].as_object_mut().unwrap().remove("reply");
    assert_reports(
        &def,
        &[
            "intents[3].action: the handoff action needs a top-level `contact`",
            "intents[5].reply: a cancel_form intent needs a reply",
        ],
    );
    // "What do you remember about me?" and "forget me" say something before the page acts.
    let mut def = mini();
    def["intents"][5]["action"] = json!("show_profile");
    def["intents"][5].as_object_mut().unwrap().remove("reply");
    assert_reports(&def, &["intents[5].reply: a show_profile or forget_me intent needs a reply"]);
    def["intents"][5]["action"] = json!("forget_me");
    assert_reports(&def, &["intents[5].reply: a show_profile or forget_me intent needs a reply"]);
    // An intent that ends forms is answered instead: it needs a reply, and nothing else to do.
    let mut def = mini();
    def["intents"][1]["ends_form"] = json!(true);
    assert_reports(&def, &["intents[1].ends_form: an intent that ends forms needs a reply"]);
    let mut def = mini();
    def["intents"][0]["ends_form"] = json!(true);
    assert_eq!(problems(&def), Vec::<String>::new());
}

#[test]
fn an_intent_without_response_or_examples_is_reported() {
    let mut def = mini();
    let thanks = def["intents"][6].as_object_mut().unwrap();
    thanks.remove("reply");
    thanks.insert("examples".into(), json!({}));
    assert_reports(
        &def,
        &[
            "intents[6].examples: give at least one example utterance",
            "intents[6]: needs a `reply`",
        ],
    );
}

#[test]
fn another_format_version_gets_its_own_error() {
    let mut def = mini();
    def["format"] = json!(DEFINITION_FORMAT + 1);
    // Even with fields this build does not know, the version is what gets reported.
    def["future_field"] = json!(true);
    match BotDefinition::from_json(&def.to_string()) {
        Err(DefinitionError::Format { found, expected }) => assert_eq!(
            (found, expected),
            (DEFINITION_FORMAT + 1, DEFINITION_FORMAT)
        ),
        other => panic!("expected DefinitionError::Format, got {other:?}"),
    }
    def.as_object_mut().unwrap().remove("format");
    assert_reports(&def, &["format: missing"]);
}

#[test]
fn malformed_json_names_line_and_column() {
    let text = "{\n  \"format\": 1,\n  \"id\": \"x\",,\n}";
    match BotDefinition::from_json(text) {
        Err(DefinitionError::Syntax { line, column, .. }) => assert_eq!((line, column), (3, 13)),
        other => panic!("expected DefinitionError::Syntax, got {other:?}"),
    }
    let mut def = mini();
    def["intents"][0]["exmples"] = json!({});
    match BotDefinition::from_json(&serde_json::to_string_pretty(&def).unwrap()) {
        Err(DefinitionError::Syntax { message, line, .. }) => {
            assert!(message.contains("exmples"), "{message}");
            assert!(line > 1);
        }
        other => panic!("expected DefinitionError::Syntax for an unknown field, got {other:?}"),
    }
}

#[test]
fn fluent_syntax_errors_are_reported_when_the_bot_is_built() {
    let mut def = mini();
    def["messages"]["en"]["thanks-reply"] = json!("You're welcome { $name");
    def["messages"]["es"]["greet-reply"] = json!("{ }");
    match Bot::from_json(&def.to_string()) {
        Err(BotError::Definition(DefinitionError::Invalid(problems))) => {
            let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
            assert_eq!(
                paths,
                ["messages.en.thanks-reply", "messages.es.greet-reply"]
            );
        }
        other => panic!("expected Fluent problems, got {other:?}"),
    }
}

/// Every bot shipped in the repository translates every message id into every locale, and
/// every message renders without Fluent errors showing through (`{$x}` for a missing variable).
#[test]
fn shipped_bots_translate_every_message() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["tests/fixtures/bots/mini.json", "www/bots/store.json"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let def = BotDefinition::from_json(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut missing = Vec::new();
        for locale in &def.locales {
            for messages in def.messages.values() {
                for id in messages.keys() {
                    if !def.messages[locale].contains_key(id) {
                        missing.push(format!("messages.{locale}.{id}"));
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "{file}: untranslated messages: {missing:?}"
        );

        // Every variable a message may get: built-ins, facts, slot values and entity values.
        let mut args = std::collections::BTreeMap::new();
        // `rating` (the csat comment prompt) and `promo` (a trigger's teaser) come from the core.
        for name in ["bot", "name", "email", "phone", "contact_url", "rating", "promo"] {
            args.insert(name.to_owned(), "x".to_owned());
        }
        for fact in def.facts.keys() {
            args.insert(format!("{}{fact}", sottovoce::definition::FACT_VARIABLE_PREFIX), "x".to_owned());
        }
        for form in &def.forms {
            for slot in &form.slots {
                args.insert(slot.name.clone(), "x".to_owned());
                args.insert(slot.entity.clone(), "x".to_owned());
                if slot.from_site.is_some() {
                    args.insert(sottovoce::definition::SITE_ORDER_STATUS.to_owned(), "x".to_owned());
                }
            }
        }
        let replies = sottovoce::replies::Replies::new(&def).unwrap();
        for (locale, messages) in &def.messages {
            for id in messages.keys() {
                let text = replies.format(locale, id, &args);
                assert!(
                    !text.contains("{$") && !text.contains("{-"),
                    "{file}: messages.{locale}.{id} renders as {text:?}"
                );
            }
        }
    }
}

#[test]
fn triggers_and_csat_problems_are_reported_with_their_paths() {
    let mut def = mini();
    def["triggers"] = json!([
        { "id": "cart", "when": { "cart": true, "idle_s": 30 }, "message": "hours-reply",
          "quick_replies": [{ "label": "title-hours", "intent": "store_hours" }], "promo": "SAVE10" },
        { "id": "cart", "when": {}, "message": "no-such-teaser", "cap": { "visit": 0 } },
        { "id": "Bad Id", "when": { "scroll_pct": 120, "event": "Add To Cart", "exit_intent": true, "tab_return": true },
          "message": "hours-reply", "quick_replies": [{ "label": "title-hours", "intent": "ghost" }], "promo": "" }
    ]);
    def["csat"] = json!({ "after": ["thanks", "farewell"], "message": "hours-reply", "comment": "no-comment",
                          "skip": "title-cancel", "thanks": "thanks-reply" });
    let got = problems(&def);
    let expected = [
        "triggers[1].id: duplicate trigger id `cart`",
        "triggers[1].when: set at least one condition",
        "triggers[1].message: message id `no-such-teaser` is not defined in messages.en",
        "triggers[1].cap.visit: must be at least 1",
        "triggers[2].id: must match [a-z0-9-]+",
        "triggers[2].when.scroll_pct: must be in [0, 100]",
        "triggers[2].when.event: must match [a-z0-9_]+",
        "triggers[2].when: exit_intent and tab_return",
        "triggers[2].quick_replies[0].intent: no intent named `ghost`",
        "triggers[2].promo: must be 1 to 40 characters",
        "csat.after[1]: no intent named `farewell`",
        "csat.comment: message id `no-comment`",
    ];
    assert_reports(&def, &expected);
    assert_eq!(got.len(), expected.len(), "the first trigger and the rest of csat are valid:\n{}", got.join("\n"));
}

/// A submitting form needs the slots its kind sends (`email`, and `product` for a stock
/// alert), its `email` slot takes the email entity; an intent without examples is allowed only
/// when a button names it (issue 20 items 3 and 5).
#[test]
fn submitting_forms_and_button_only_intents() {
    let mut def = mini();
    def["forms"][0]["submit"] = json!("back_in_stock");
    def["intents"][4]["examples"] = json!({});
    assert_reports(
        &def,
        &[
            "forms[0].submit: a `back_in_stock` form needs a slot named `email`",
            "forms[0].submit: a `back_in_stock` form needs a slot named `product`",
            "intents[4].examples: give at least one example utterance, or name the intent in a quick reply's `intent`",
        ],
    );
    let mut def = mini();
    def["forms"][0]["submit"] = json!("newsletter");
    def["forms"][0]["slots"][0]["name"] = json!("email");
    assert_reports(&def, &["forms[0].slots: the `email` slot of a submitting form must take the `email` entity, not `order_number`"]);
    // A button that names the intent makes it a valid button-only intent.
    let mut def = mini();
    let name = def["intents"][4]["name"].clone();
    def["intents"][4]["examples"] = json!({});
    def["greeting"]["quick_replies"] = json!([{ "label": def["greeting"]["quick_replies"][0]["label"].clone(), "intent": name }]);
    assert_eq!(problems(&def), Vec::<String>::new());
}
