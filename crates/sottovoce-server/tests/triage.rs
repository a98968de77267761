//! The triaged inbox: the queue order and its explanations from a seeded database
//! (`fixtures/triage.json`) on SQLite and PostgreSQL, filters, assignment, canned replies with
//! variables and colleagues' presence.

mod common;

use axum::http::{Request, StatusCode};
use axum::Router;
use common::*;
use serde_json::{json, Value};
use sottovoce_server::{AppState, Config};

const SECRET: &str = "triage-identity-secret";
const OTHER_AGENT: &str = "second@shop.example";

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/triage.json")).expect("triage.json parses")
}

fn configure(c: &mut Config) {
    c.identity_secret = Some(SECRET.into());
    c.profile_fields.push("traits.tier".into());
    c.triage.tiers = sottovoce_server::triage::TriageConfig::parse_tiers(&["gold=30", "silver=10"]).unwrap();
}

/// Creates the fixture's conversations; returns label → conversation id.
async fn seed(app: &Router, cookie: &str) -> Vec<(String, String)> {
    let now = sottovoce_server::store::now_ms();
    let mut ids = Vec::new();
    for (i, c) in fixture()["conversations"].as_array().unwrap().iter().enumerate() {
        let label = c["label"].as_str().unwrap();
        let start = now - c["minutes_ago"].as_i64().unwrap() * 60_000;
        let transcript: Vec<Value> = c["sentiments"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(k, s)| json!({ "author": "visitor", "text": format!("{label} message {k}"), "at_ms": start + k as i64 * 1000, "sentiment": s }))
            .collect();
        let mut body = json!({ "locale": c["locale"], "bot_id": "test-shop", "profile": { "name": label }, "transcript": transcript,
                               "idempotency_key": format!("triage-seed-{i}-{label}") });
        if let Some(tier) = c.get("tier") {
            let id = format!("cust-{i}");
            body["profile"]["traits.tier"] = tier.clone();
            let hash = if c["verified"].as_bool() == Some(true) {
                sottovoce_server::identity::user_hash(SECRET, &id)
            } else {
                sottovoce_server::identity::user_hash("not the secret", &id)
            };
            body["customer"] = json!({ "id": id, "user_hash": hash });
        }
        let (id, _) = escalate(app, &body).await;
        if c["agent_replied"].as_bool() == Some(true) {
            let reply = send(app, with_cookie(post_json(&format!("/api/agent/conversations/{id}/messages"), &json!({ "text": "On it." })), cookie)).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        }
        ids.push((label.to_owned(), id));
    }
    ids
}

fn label_of<'a>(ids: &'a [(String, String)], id: &str) -> &'a str {
    ids.iter().find(|(_, i)| i == id).map(|(l, _)| l.as_str()).unwrap_or("?")
}

async fn queue(app: &Router, cookie: &str, query: &str) -> Vec<Value> {
    let answer = send(app, with_cookie(get(&format!("/api/agent/conversations?{query}")), cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.text);
    assert!(answer.json["now_ms"].as_i64().is_some());
    answer.json["conversations"].as_array().unwrap().clone()
}

async fn triage_follows_the_fixture(app: &Router) {
    let cookie = sign_in(app).await;
    let ids = seed(app, &cookie).await;
    let fixture = fixture();

    let got = queue(app, &cookie, "status=open").await;
    let labels: Vec<&str> = got.iter().map(|c| label_of(&ids, c["id"].as_str().unwrap())).collect();
    let want: Vec<&str> = fixture["queue"].as_array().unwrap().iter().map(|q| q["label"].as_str().unwrap()).collect();
    assert_eq!(labels, want, "queue order");
    for (c, q) in got.iter().zip(fixture["queue"].as_array().unwrap()) {
        let label = q["label"].as_str().unwrap();
        assert_eq!(c["priority"]["score"], q["score"], "{label}: {}", c["priority"]);
        assert_eq!(c["priority"]["band"], q["band"], "{label}");
        let reasons: Vec<&str> = c["priority"]["reasons"].as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap()).collect();
        let want: Vec<&str> = q["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(reasons, want, "{label}");
    }

    for f in fixture["filters"].as_array().unwrap() {
        if let Some(take) = f["after_taking"].as_str() {
            let id = &ids.iter().find(|(l, _)| l == take).unwrap().1;
            let taken = send(app, with_cookie(post_json(&format!("/api/agent/conversations/{id}/assign"), &json!({ "assignee": "me" })), &cookie)).await;
            assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
            assert_eq!(taken.json["assignee"], AGENT_EMAIL);
        }
        let query = f["query"].as_str().unwrap();
        let got: Vec<String> = queue(app, &cookie, query).await.iter().map(|c| label_of(&ids, c["id"].as_str().unwrap()).to_owned()).collect();
        let want: Vec<String> = f["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect();
        assert_eq!(got, want, "filter {query}");
    }
}

#[tokio::test]
async fn the_queue_is_ordered_and_explained_on_sqlite() {
    let server = server(configure).await;
    triage_follows_the_fixture(&server.app).await;
}

#[tokio::test]
async fn the_queue_is_ordered_and_explained_on_postgresql() {
    let Some(url) = fresh_pg_database("triage_queue").await else { return };
    sottovoce_server::create_agent(&url, AGENT_EMAIL, AGENT_PASSWORD).await.unwrap();
    let mut config = Config::new(url);
    config.allowed_origins = vec!["https://shop.example".into()];
    configure(&mut config);
    let app = sottovoce_server::router(AppState::new(config).await.unwrap());
    triage_follows_the_fixture(&app).await;
}

#[tokio::test]
async fn agents_take_assign_and_release_and_see_each_other() {
    let server = server(configure).await;
    sottovoce_server::create_agent(&server.url, OTHER_AGENT, "another long password").await.unwrap();
    let app = &server.app;
    let cookie = sign_in(app).await;
    let (id, _) = escalate(app, &escalation(None)).await;
    let assign = |body: Value| {
        let request = with_cookie(post_json(&format!("/api/agent/conversations/{id}/assign"), &body), &cookie);
        send(app, request)
    };

    assert_eq!(assign(json!({ "assignee": OTHER_AGENT })).await.json["assignee"], OTHER_AGENT);
    let agents = send(app, with_cookie(get("/api/agent/agents"), &cookie)).await;
    let load: Vec<(String, String, i64)> = agents.json["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["email"].as_str().unwrap().to_owned(), a["presence"].as_str().unwrap().to_owned(), a["assigned_open"].as_i64().unwrap()))
        .collect();
    assert_eq!(load, [(AGENT_EMAIL.to_owned(), "offline".to_owned(), 0), (OTHER_AGENT.to_owned(), "offline".to_owned(), 1)]);

    let online = send(app, with_cookie(post_json("/api/agent/presence", &json!({ "status": "online" })), &cookie)).await;
    assert!(online.status.is_success(), "{}", online.text);
    let agents = send(app, with_cookie(get("/api/agent/agents"), &cookie)).await;
    assert_eq!(agents.json["agents"][0]["presence"], "online", "{}", agents.text);

    assert_eq!(assign(json!({ "assignee": null })).await.json["assignee"], Value::Null);
    let listed = send(app, with_cookie(get("/api/agent/conversations?assignee=none"), &cookie)).await;
    assert_eq!(listed.json["conversations"][0]["assignee"], Value::Null);

    let unknown = assign(json!({ "assignee": "nobody@shop.example" })).await;
    assert_eq!((unknown.status, unknown.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("assignee")), "{}", unknown.text);
    let resolved = send(app, with_cookie(post_json(&format!("/api/agent/conversations/{id}/resolve"), &json!({})), &cookie)).await;
    assert_eq!(resolved.status, StatusCode::OK);
    assert_eq!(assign(json!({ "assignee": "me" })).await.status, StatusCode::CONFLICT);
    let missing = send(app, with_cookie(post_json("/api/agent/conversations/c_nope/assign", &json!({ "assignee": "me" })), &cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let anonymous = send(app, post_json(&format!("/api/agent/conversations/{id}/assign"), &json!({ "assignee": "me" }))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn canned_replies_fill_their_variables_per_conversation() {
    let server = server(configure).await;
    let app = &server.app;
    let cookie = sign_in(app).await;
    for (title, text, status) in [
        ("Greeting", "Hi {name}, this is {agent}. Let me look.", StatusCode::CREATED),
        ("Account", "I see account {customer_id}.", StatusCode::CREATED),
        ("Bad variable", "Hello {email}", StatusCode::UNPROCESSABLE_ENTITY),
        ("Unclosed", "Hello {name", StatusCode::UNPROCESSABLE_ENTITY),
        ("", "No title", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let answer = send(app, with_cookie(post_json("/api/agent/canned", &json!({ "title": title, "text": text })), &cookie)).await;
        assert_eq!(answer.status, status, "{title}: {}", answer.text);
    }
    let (id, _) = escalate(app, &escalation(None)).await;
    let opened = send(app, with_cookie(get(&format!("/api/agent/conversations/{id}")), &cookie)).await;
    let canned = opened.json["canned"].as_array().unwrap();
    assert_eq!(canned[0]["text"], "Hi Ana, this is agent. Let me look.");
    assert_eq!(canned[0]["complete"], true);
    // Not a verified customer: the id is not filled in, and the agent sees the variable.
    assert_eq!((canned[1]["text"].as_str(), canned[1]["complete"].as_bool()), (Some("I see account {customer_id}."), Some(false)));

    let first = canned[0]["id"].as_i64().unwrap();
    let delete = |id: i64| send(app, with_cookie(Request::delete(format!("/api/agent/canned/{id}")).body(axum::body::Body::empty()).unwrap(), &cookie));
    assert_eq!(delete(first).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(first).await.status, StatusCode::NOT_FOUND);
    let left = send(app, with_cookie(get("/api/agent/canned"), &cookie)).await;
    assert_eq!(left.json["canned"].as_array().unwrap().len(), 1, "{}", left.text);
}
