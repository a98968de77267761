//! The JSON Schema in `schema/bot-definition.schema.json` stays true to the parser: every bot
//! shipped in the repository validates against it, a definition using every optional field
//! (serialized by the Rust types themselves) validates, and shapes the parser rejects are
//! rejected by the schema too.
//!
//! The checker below implements the subset of JSON Schema 2020-12 the schema uses (`type`,
//! `const`, `enum`, `properties`, `required`, `additionalProperties`, `items`, `minItems`,
//! `uniqueItems`, `minimum`, `maximum`, `minLength`, `pattern`, `anyOf`, local `$ref`); a
//! keyword it does not know fails the test, so the schema cannot outgrow the check silently.

use serde_json::{json, Value};
use sottovoce::BotDefinition;

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "$ref",
    "title",
    "description",
    "default",
    "type",
    "const",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "minLength",
    "pattern",
    "anyOf",
];

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("schema/bot-definition.schema.json"))
        .expect("schema exists");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

/// Pushes every violation of `schema` by `value` at JSON path `path`.
fn check(root_schema: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else { return };
    for key in s.keys() {
        assert!(
            KNOWN.contains(&key.as_str()),
            "schema keyword `{key}` is not understood by this test"
        );
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/$defs/")
            .expect("only local $defs references");
        check(
            root_schema,
            &root_schema["$defs"][name],
            value,
            path,
            errors,
        );
    }
    if let Some(ty) = s.get("type").and_then(Value::as_str) {
        if !type_matches(ty, value) {
            errors.push(format!("{path}: expected {ty}, got {value}"));
            return;
        }
    }
    if let Some(c) = s.get("const") {
        if c != value {
            errors.push(format!("{path}: expected {c}, got {value}"));
        }
    }
    if let Some(options) = s.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!("{path}: {value} is not one of {options:?}"));
        }
    }
    if let Some(n) = value.as_f64() {
        if s.get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            errors.push(format!("{path}: {n} is below the minimum"));
        }
        if s.get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            errors.push(format!("{path}: {n} is above the maximum"));
        }
    }
    if let Some(text) = value.as_str() {
        if s.get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| (text.chars().count() as u64) < m)
        {
            errors.push(format!("{path}: too short"));
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            if !regex_lite::Regex::new(p)
                .expect("schema pattern compiles")
                .is_match(text)
            {
                errors.push(format!("{path}: {text:?} does not match {p}"));
            }
        }
    }
    if let Some(items) = value.as_array() {
        if s.get("minItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| (items.len() as u64) < m)
        {
            errors.push(format!("{path}: too few items"));
        }
        if s.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    errors.push(format!("{path}[{i}]: duplicate item"));
                }
            }
        }
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(
                    root_schema,
                    item_schema,
                    item,
                    &format!("{path}[{i}]"),
                    errors,
                );
            }
        }
    }
    if let Some(object) = value.as_object() {
        let properties = s.get("properties").and_then(Value::as_object);
        for req in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let req = req.as_str().unwrap();
            if !object.contains_key(req) {
                errors.push(format!("{path}: missing required `{req}`"));
            }
        }
        for (key, v) in object {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match properties.and_then(|p| p.get(key)) {
                Some(property) => check(root_schema, property, v, &child, errors),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{child}: property not allowed"))
                    }
                    Some(extra) if extra.is_object() => {
                        check(root_schema, extra, v, &child, errors)
                    }
                    _ => {}
                },
            }
        }
    }
    if let Some(options) = s.get("anyOf").and_then(Value::as_array) {
        let ok = options.iter().any(|o| {
            let mut e = Vec::new();
            check(root_schema, o, value, path, &mut e);
            e.is_empty()
        });
        if !ok {
            errors.push(format!("{path}: matches none of anyOf"));
        }
    }
}

fn violations(value: &Value) -> Vec<String> {
    let schema = schema();
    let mut errors = Vec::new();
    check(&schema, &schema, value, "", &mut errors);
    errors
}

fn bot_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in ["tests/fixtures/bots", "www/bots"] {
        if let Ok(entries) = std::fs::read_dir(root().join(dir)) {
            files.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json")),
            );
        }
    }
    files.sort();
    files
}

#[test]
fn every_bot_in_the_repository_validates() {
    let files = bot_files();
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let errors = violations(&value);
        assert!(
            errors.is_empty(),
            "{} does not match the schema:\n{}",
            file.display(),
            errors.join("\n")
        );
        BotDefinition::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

#[test]
fn every_field_the_parser_writes_is_in_the_schema() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/bots/mini.json")).unwrap();
    let mut def = BotDefinition::from_json(&text).unwrap();
    def.threshold = Some(0.5);
    def.dialogue = Some(sottovoce::definition::DialogueSettingsDef {
        context_turns: Some(2),
        memory_turns: Some(4),
        side_question_confidence: Some(0.8),
        question_min_words: Some(3),
        follow_up_max_words: Some(5),
        follow_up_confidence: Some(0.7),
        negatives_before_offer: Some(3),
        fallbacks_before_offer: Some(1),
        locale_confidence: Some(0.6),
        locale_min_words: Some(3),
        new_visit_after_min: Some(60),
        slot_tries: Some(4),
        familiar_threshold: Some(0.3),
        familiar_coverage: Some(0.85),
    });
    def.profile = Some(sottovoce::definition::ProfileDef { remember: vec!["number".into()], days: Some(7) });
    use sottovoce::definition::FactValue;
    def.facts.insert("return_days".into(), FactValue::Same("30".into()));
    def.facts.insert(
        "hours".into(),
        FactValue::PerLocale([("en".to_owned(), "9 to 5".to_owned()), ("es".to_owned(), "de 9 a 17".to_owned())].into()),
    );
    // Serializing with every optional field present, through the Rust types themselves.
    let mut value: Value = serde_json::from_str(&def.to_json()).unwrap();
    value["intents"][0]["form"] = json!("track_order");
    value["intents"][0]["action"] = json!("cancel_form");
    value["intents"][0]["remember_name"] = json!("person_name");
    value["greeting"]["quick_replies"][0]["intent"] = json!("greet");
    value["forms"][0]["slots"][0]["max_tries"] = json!(2);
    value["fallback"]["suggestions"] = json!(2);
    value["intents"][0]["reply"]["variants"] = json!(["greeting"]);
    value["intents"][0]["reply"]["empathetic"] = json!("greeting");
    value["intents"][0]["reply"]["uses"] = json!(["number"]);
    value["intents"][0]["reply"]["context_turns"] = json!(2);
    value["forms"][0]["slots"][0]["values"] = json!(["CU-123456"]);
    value["forms"][0]["slots"][0]["pattern"] = json!("^CU-\\d{6}$");
    value["forms"][0]["confirm"] =
        json!({"message": "greeting", "yes": "greet", "no": "greet", "buttons": ["greeting", "greeting"]});
    if value["contact"].is_object() {
        value["contact"]["offer"] = json!("greeting");
    }
    assert_eq!(violations(&value), Vec::<String>::new());
    let back: BotDefinition = serde_json::from_value(value).expect("the parser reads it back");
    assert_eq!(back.facts, def.facts);
    assert_eq!(
        back.intents[0].action,
        Some(sottovoce::definition::Action::CancelForm)
    );
}

#[test]
fn shapes_the_parser_rejects_are_rejected_by_the_schema() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/bots/mini.json")).unwrap();
    let base: Value = serde_json::from_str(&text).unwrap();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "unknown top-level field",
            Box::new(|v| v["colour"] = json!("red")),
        ),
        (
            "unknown dialogue setting",
            Box::new(|v| v["dialogue"] = json!({"memory_turn": 3})),
        ),
        (
            "unknown intent field",
            Box::new(|v| v["intents"][0]["exmples"] = json!({})),
        ),
        (
            "unknown action",
            Box::new(|v| v["intents"][0]["action"] = json!("dance")),
        ),
        ("other format", Box::new(|v| v["format"] = json!(2))),
        (
            "unknown entity kind",
            Box::new(|v| v["entities"][0]["kind"] = json!("list")),
        ),
        (
            "missing greeting",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("greeting");
            }),
        ),
        (
            "javascript link",
            Box::new(|v| {
                v["intents"][2]["reply"]["links"][0]["url"] = json!("javascript:alert(1)")
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut v = base.clone();
        mutate(&mut v);
        assert!(!violations(&v).is_empty(), "schema accepts: {what}");
        assert!(
            BotDefinition::from_json(&v.to_string()).is_err(),
            "parser accepts: {what}"
        );
    }
}

/// Every line of `text` checked against `schema/catalog-row.schema.json`: "line N: field: problem".
fn catalog_violations(text: &str) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/catalog-row.schema.json")).expect("catalog schema exists"),
    )
    .expect("catalog schema is JSON");
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).expect("a JSON row");
        let mut row_errors = Vec::new();
        check(&schema, &schema, &row, "", &mut row_errors);
        errors.extend(row_errors.into_iter().map(|e| format!("line {}: {e}", i + 1)));
    }
    errors
}

#[test]
fn the_catalog_schema_accepts_the_demo_catalog_and_names_line_and_field() {
    let demo = std::fs::read_to_string(root().join("www/catalog/cumbre.jsonl")).expect("demo catalog");
    assert_eq!(catalog_violations(&demo), Vec::<String>::new());
    assert!(sottovoce::Catalog::from_jsonl(&demo).is_ok());
    let row = r#"{"id": "a", "name": {"en": "Tent"}, "category": "tents", "price": {"amount": 10, "currency": "EUR"}, "url": "https://x.example/a"}"#;
    // Shapes the parser rejects, the schema rejects too, naming the line and the field.
    for (bad, field) in [
        (row.replace("https://x.example/a", "javascript:alert(1)"), "url"),
        (row.replace(r#""amount": 10"#, r#""amount": -1"#), "price.amount"),
        (row.replace(r#""category": "tents", "#, ""), "category"),
        (row.replace(r#""url""#, r#""link""#), "link"),
    ] {
        let text = format!("{row}\n{bad}\n");
        let errors = catalog_violations(&text);
        assert!(errors.iter().any(|e| e.starts_with("line 2: ") && e.contains(field)), "{field}: {errors:?}");
        assert!(sottovoce::Catalog::from_jsonl(&text).is_err(), "{field}: the parser rejects it too");
    }
}
