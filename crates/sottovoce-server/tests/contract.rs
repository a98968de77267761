//! The handoff contract written three times must say one thing: the core's protocol types
//! (`sottovoce::protocol`, `sottovoce::escalation`), the server's `openapi.json`, and the
//! TypeScript types the npm package ships (the binding's `typescript_custom_section`, which
//! wasm-bindgen copies into `pkg/sottovoce.d.ts`).
//!
//! Every check is driven by the documents themselves: for each schema in [`SCHEMAS`], every
//! property is tried against the Rust type (removed: required or not; unknown: refused or not;
//! each enum value and each bound: accepted or refused by deserialization plus the protocol's
//! own validation), so a field, an enum string or a limit changed on one side only fails here.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use sottovoce::escalation::{Outgoing, Status};
use sottovoce::protocol::delivery::Step;
use sottovoce::protocol::{
    Author, ConversationStatus, CustomerIdentity, EscalationCreated, EscalationRequest, KpiReport, Message, SharedQuestion, Submission, SubmissionKind, TranscriptMessage,
    VisitorMessage, PROFILE_FIELDS,
};

const OPENAPI: &str = include_str!("../openapi.json");
const BINDING: &str = include_str!("../../sottovoce-wasm/src/lib.rs");

/// Does `value` pass the Rust side: deserialization, then the protocol's validation for bodies
/// the server validates.
type Accepts = fn(&Value) -> bool;

fn parses<T: DeserializeOwned>(value: &Value) -> bool {
    serde_json::from_value::<T>(value.clone()).is_ok()
}

fn request_ok(value: &Value) -> bool {
    serde_json::from_value::<EscalationRequest>(value.clone()).is_ok_and(|r| r.validate(&PROFILE_FIELDS).is_ok())
}

fn transcript_message_ok(value: &Value) -> bool {
    serde_json::from_value::<TranscriptMessage>(value.clone()).is_ok_and(|m| m.validate("m").is_ok())
}

fn kpi_report_ok(value: &Value) -> bool {
    serde_json::from_value::<KpiReport>(value.clone()).is_ok_and(|r| r.validate().is_ok())
}

fn shared_question_ok(value: &Value) -> bool {
    serde_json::from_value::<SharedQuestion>(value.clone()).is_ok_and(|q| q.validate().is_ok())
}

fn submission_ok(value: &Value) -> bool {
    serde_json::from_value::<Submission>(value.clone()).is_ok_and(|s| s.validate().is_ok())
}

fn visitor_message_ok(value: &Value) -> bool {
    serde_json::from_value::<VisitorMessage>(value.clone()).is_ok_and(|m| m.validate().is_ok())
}

/// (schema name, a full valid sample with every property, Rust acceptance, whether bounds are
/// enforced by validation (request bodies) or only documented (responses)).
fn schemas() -> Vec<(&'static str, Value, Accepts, bool)> {
    let message = json!({ "author": "visitor", "text": "hi", "at_ms": 5, "intent": "greet", "confidence": 0.5, "sentiment": 0.1 });
    vec![
        ("TranscriptMessage", message.clone(), transcript_message_ok, true),
        (
            "EscalationRequest",
            json!({ "idempotency_key": "key-0123456789abcdef", "locale": "en", "bot_id": "shop", "page_url": "https://shop.example/",
                    "profile": { "name": "Ana" }, "transcript": [message],
                    "customer": { "id": "c-42", "user_hash": "0123456789abcdef".repeat(4) } }),
            request_ok,
            true,
        ),
        (
            "VisitorMessage",
            json!({ "text": "hi", "client_id": "c-1", "intent": "greet", "confidence": 0.5, "sentiment": 0.1 }),
            visitor_message_ok,
            true,
        ),
        (
            "KpiReport",
            json!({ "id": "kpi-0123456789abcdef", "kpis": { "locale": "en", "outcome": "contained", "messages": 2, "fallbacks": 1, "picks": 0,
                    "csat": [5], "intents": { "shipping": 1 }, "first_answer_ms": 40 } }),
            kpi_report_ok,
            true,
        ),
        (
            "SharedQuestion",
            json!({ "id": "share-0123456789abcdef", "locale": "en", "text": "can my parcel be left with a neighbour",
                    "intent": "delivery_problem" }),
            shared_question_ok,
            true,
        ),
        (
            "Submission",
            json!({ "id": "lead-0123456789abcdef", "kind": "lead", "locale": "en",
                    "fields": { "what": "hiking", "product": "tent", "email": "coach@club.example" } }),
            submission_ok,
            true,
        ),
        (
            "Message",
            json!({ "id": 1, "author": "agent", "author_name": "luis", "text": "hi", "created_ms": 5, "intent": "greet", "confidence": 0.5, "sentiment": 0.1 }),
            parses::<Message>,
            false,
        ),
        (
            "Escalation",
            json!({ "id": "c_1", "token": "t", "status": "open", "created_ms": 5 }),
            parses::<EscalationCreated>,
            false,
        ),
    ]
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

fn strings(value: &Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

/// Every wire string any protocol enum knows, plus one nobody knows.
fn enum_candidates() -> BTreeSet<String> {
    let mut all: BTreeSet<String> = Author::ALL.iter().map(|a| a.as_str().to_owned()).collect();
    all.extend(ConversationStatus::ALL.iter().map(|s| s.as_str().to_owned()));
    all.extend(SubmissionKind::ALL.iter().map(|k| k.as_str().to_owned()));
    all.insert("admin".into());
    all
}

/// `sample` with `property` set to `value`.
fn with(sample: &Value, property: &str, value: Value) -> Value {
    let mut out = sample.clone();
    out[property] = value;
    out
}

#[test]
fn openapi_schemas_match_the_protocol_types() {
    let openapi: Value = serde_json::from_str(OPENAPI).unwrap();
    let components = &openapi["components"]["schemas"];
    let mut checked = 0;
    for (name, sample, accepts, validated) in schemas() {
        let schema = &components[name];
        assert!(schema.is_object(), "openapi.json has no schema {name}");
        assert!(accepts(&sample), "{name}: the full sample is refused: {sample}");
        let properties = &schema["properties"];
        assert_eq!(keys(properties), keys(&sample), "{name}: properties differ from the Rust fields");

        // Required ⇔ the Rust type refuses the body without it.
        let required = strings(&schema["required"]);
        for property in keys(&sample) {
            let mut without = sample.clone();
            without.as_object_mut().unwrap().remove(&property);
            assert_eq!(required.contains(&property), !accepts(&without), "{name}.{property}: required in openapi.json ⇔ required in Rust");
        }
        // additionalProperties: false ⇔ deny_unknown_fields.
        let closed = schema["additionalProperties"] == json!(false);
        assert_eq!(closed, !accepts(&with(&sample, "zzz_unknown", json!(1))), "{name}: additionalProperties");

        for (property, spec) in properties.as_object().unwrap() {
            // An enum lists exactly the wire strings the Rust side accepts.
            if let Some(values) = spec.get("enum") {
                let accepted: BTreeSet<String> =
                    enum_candidates().into_iter().filter(|v| accepts(&with(&sample, property, json!(v)))).collect();
                assert_eq!(strings(values), accepted, "{name}.{property}: enum");
            }
            if !validated {
                continue;
            }
            // Bounds: the limit itself passes, one past it is refused.
            for bound in ["maxLength", "minLength", "maxItems", "minItems", "maximum", "minimum"] {
                let Some(limit) = spec.get(bound).and_then(Value::as_f64) else { continue };
                let past = match bound {
                    "maximum" => limit + 0.001,
                    "minimum" => limit - 0.001,
                    _ if bound.starts_with("max") => limit + 1.0,
                    _ => limit - 1.0,
                };
                let value = |v: f64| -> Value {
                    let n = v.max(0.0) as usize;
                    match bound {
                        // The sample padded (keeps a URL a URL) or, when shorter, plain letters.
                        "maxLength" | "minLength" => {
                            let text = sample[property].as_str().unwrap();
                            json!(if n >= text.len() { format!("{text}{}", "x".repeat(n - text.len())) } else { "x".repeat(n) })
                        }
                        "maxItems" | "minItems" => json!(vec![sample[property][0].clone(); n]),
                        _ => json!(v),
                    }
                };
                assert!(accepts(&with(&sample, property, value(limit))), "{name}.{property}: {bound} {limit} itself is refused");
                assert!(!accepts(&with(&sample, property, value(past))), "{name}.{property}: past {bound} {limit} is accepted");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 36, "bounds checked (a bound added to openapi.json: count it here)");
}

/// The body of `export interface NAME { … }` or the text of `export type NAME = …;` in the
/// binding's TypeScript section.
fn ts_declaration<'a>(name: &str) -> &'a str {
    for head in [format!("export interface {name} {{"), format!("export type {name} =")] {
        if let Some(start) = BINDING.find(&head) {
            let rest = &BINDING[start + head.len()..];
            let end = if head.ends_with('{') { matching_brace(rest) } else { rest.find(";\n").unwrap() };
            return &rest[..end];
        }
    }
    panic!("the binding declares no TypeScript type {name}");
}

/// Index of the `}` closing an already opened `{` at the start of `text`.
fn matching_brace(text: &str) -> usize {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("unclosed brace in {text}");
}

/// The fields of an object type body: name → (optional, type text), nested braces kept whole.
fn ts_fields(body: &str) -> Vec<(String, bool, String)> {
    let mut fields = Vec::new();
    let (mut depth, mut start) = (0, 0);
    let body = body.trim();
    let mut parts = Vec::new();
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ';' | '\n' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    for part in parts {
        let part = part.trim();
        if part.is_empty() || part.starts_with("/**") || part.starts_with("*") || part.starts_with("//") {
            continue;
        }
        let (name, ty) = part.split_once(':').unwrap_or_else(|| panic!("not a field: {part}"));
        let optional = name.ends_with('?');
        fields.push((name.trim_end_matches('?').trim().to_owned(), optional, ty.trim().to_owned()));
    }
    fields
}

/// The string literals of a union type (`"a" | "b"`).
fn ts_literals(ty: &str) -> BTreeSet<String> {
    ty.split('|').map(|s| s.trim().trim_matches('"').to_owned()).collect()
}

/// Checks a TypeScript object type against serialized Rust values: the field names are the
/// union of the values' keys, and a field is optional exactly when some value leaves it out.
fn check_fields(what: &str, ts: &[(String, bool, String)], values: &[Value]) {
    let all: BTreeSet<String> = values.iter().flat_map(keys).collect();
    let names: BTreeSet<String> = ts.iter().map(|f| f.0.clone()).collect();
    assert_eq!(names, all, "{what}: TypeScript fields differ from the Rust serialization");
    for (name, optional, _) in ts {
        let sometimes_absent = values.iter().any(|v| v.get(name).is_none());
        assert_eq!(*optional, sometimes_absent, "{what}.{name}: optional in TypeScript ⇔ skipped by serde");
    }
}

#[test]
fn typescript_types_match_the_rust_serialization() {
    // The payload, as the core builds it (no key or page URL: the widget sends the key as a header).
    let message = |author, intent: Option<&str>| TranscriptMessage {
        author,
        text: "hi".into(),
        at_ms: Some(1),
        intent: intent.map(Into::into),
        confidence: intent.map(|_| 0.5),
        sentiment: intent.map(|_| 0.1),
    };
    let payload = EscalationRequest {
        idempotency_key: None,
        locale: "en".into(),
        bot_id: Some("shop".into()),
        page_url: None,
        profile: Default::default(),
        transcript: vec![message(Author::Visitor, Some("greet")), message(Author::Bot, None)],
        customer: Some(CustomerIdentity { id: "c-42".into(), user_hash: Some("ab".repeat(32)) }),
    };
    // Without a customer (the owner does not allow `customer_id`) and with one.
    let anonymous = serde_json::to_value(EscalationRequest { customer: None, ..payload.clone() }).unwrap();
    let payload = serde_json::to_value(&payload).unwrap();
    let fields = ts_fields(ts_declaration("EscalationPayload"));
    check_fields("EscalationPayload", &fields, &[payload.clone(), anonymous]);
    let customer = &fields.iter().find(|f| f.0 == "customer").unwrap().2;
    let customer = ts_fields(customer.trim().strip_prefix('{').and_then(|t| t.strip_suffix('}')).expect("customer: { … }"));
    check_fields("EscalationPayload.customer", &customer, &[payload["customer"].clone(), serde_json::to_value(CustomerIdentity { id: "c-42".into(), user_hash: None }).unwrap()]);
    let transcript = &fields.iter().find(|f| f.0 == "transcript").unwrap().2;
    let inner = transcript.trim().strip_prefix('{').and_then(|t| t.strip_suffix("}[]")).expect("transcript: { … }[]");
    let inner = ts_fields(inner);
    check_fields("EscalationPayload.transcript[]", &inner, payload["transcript"].as_array().unwrap());
    let authors = ts_literals(&inner.iter().find(|f| f.0 == "author").unwrap().2);
    let sendable: BTreeSet<String> =
        Author::ALL.into_iter().filter(|a| message(*a, None).validate("m").is_ok()).map(|a| a.as_str().to_owned()).collect();
    assert_eq!(authors, sendable, "transcript authors");

    // Each escalation status is one member of the union, with the serialized fields.
    let statuses = [
        Status::Queued { since_ms: 1 },
        Status::Sending { attempt: 1, started_ms: 1 },
        Status::Sent { id: "c".into(), token: "t".into(), sent_ms: 1 },
        Status::Failed { attempts: 1, next_retry_ms: 1 },
        Status::Resolved { id: "c".into() },
        Status::Rejected { attempts: 1, http_status: 422 },
    ];
    check_union("EscalationStatus", "state", statuses.iter().map(|s| serde_json::to_value(s).unwrap()));
    let steps = [Step::SendNow { attempt: 1 }, Step::WaitUntil { at_ms: 1 }, Step::Done, Step::Failed { status: 422 }];
    check_union("DeliveryStep", "step", steps.iter().map(|s| serde_json::to_value(s).unwrap()));

    let outgoing = |rejected| Outgoing { client_id: "k-1".into(), text: "hi".into(), at_ms: 1, attempts: 0, next_retry_ms: 0, rejected };
    let outgoing = [serde_json::to_value(outgoing(None)).unwrap(), serde_json::to_value(outgoing(Some(422))).unwrap()];
    check_fields("OutgoingMessage", &ts_fields(ts_declaration("OutgoingMessage")), &outgoing);

    let speakers = ts_literals(&ts_fields(ts_declaration("TranscriptEntry")).into_iter().find(|f| f.0 == "from").unwrap().2);
    assert_eq!(speakers, Author::ALL.iter().map(|a| a.as_str().to_owned()).collect(), "TranscriptEntry.from");
}

/// A tagged union `| { tag: "x"; … } | …`: one member per value, each with the value's fields.
fn check_union(name: &str, tag: &str, values: impl Iterator<Item = Value>) {
    let declaration = ts_declaration(name);
    let mut members: Vec<Vec<(String, bool, String)>> = Vec::new();
    let mut rest = declaration;
    while let Some(open) = rest.find('{') {
        let close = open + 1 + matching_brace(&rest[open + 1..]);
        members.push(ts_fields(&rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    let values: Vec<Value> = values.collect();
    assert_eq!(members.len(), values.len(), "{name}: one TypeScript member per Rust variant");
    for value in values {
        let tag_value = value[tag].as_str().unwrap().to_owned();
        let member = members
            .iter()
            .find(|m| m.iter().any(|f| f.0 == tag && f.2 == format!("\"{tag_value}\"")))
            .unwrap_or_else(|| panic!("{name}: no TypeScript member for {tag} {tag_value}"));
        check_fields(&format!("{name} {tag_value}"), member, &[value]);
    }
}
