//! PostgreSQL: the API on a PostgreSQL database, and two server processes on one database
//! with live delivery across them (LISTEN/NOTIFY). Needs `SOTTOVOCE_TEST_PG_URL` (a server
//! where the user may create databases); without it these tests say they skipped.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};
use sottovoce_server::{AppState, Config};

use common::*;

#[tokio::test]
async fn the_api_works_on_postgresql() {
    let Some(url) = fresh_pg_database("the_api_works_on_postgresql").await else { return };
    sottovoce_server::create_agent(&url, AGENT_EMAIL, AGENT_PASSWORD).await.unwrap();
    let mut config = Config::new(url);
    config.bot_path = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bot.json").into());
    let state = AppState::new(config).await.unwrap();
    assert_eq!(state.store().backend(), sottovoce_server::store::Backend::Postgres);
    let app = sottovoce_server::router(state);

    let body = escalation(Some("pg-key-0123456789abcdef"));
    let first = send(&app, post_json("/api/escalations", &body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let retry = send(&app, post_json("/api/escalations", &body)).await;
    assert_eq!((retry.status, &retry.json["token"]), (StatusCode::OK, &first.json["token"]));
    let (id, token) = (first.json["id"].as_str().unwrap(), first.json["token"].as_str().unwrap());
    let uri = format!("/api/escalations/{id}/messages");
    let post = || with_bearer(post_json(&uri, &json!({ "text": "still there?", "client_id": "pg-1" })), token);
    assert_eq!(send(&app, post()).await.status, StatusCode::CREATED);
    assert_eq!(send(&app, post()).await.status, StatusCode::OK);
    let read = send(&app, with_bearer(get(&uri), token)).await;
    assert_eq!(read.json["messages"].as_array().unwrap().len(), 4);
    assert_eq!(read.json["messages"][0]["confidence"], 0.91);

    let cookie = sign_in(&app).await;
    let list = send(&app, with_cookie(get("/api/agent/conversations"), &cookie)).await;
    assert_eq!(list.json["conversations"][0]["message_count"], 4, "{}", list.text);
    assert_eq!(list.json["conversations"][0]["last_intent"], "human");
    let opened = send(&app, with_cookie(get(&format!("/api/agent/conversations/{id}")), &cookie)).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let resolve = format!("/api/agent/conversations/{id}/resolve");
    assert_eq!(send(&app, with_cookie(post_json(&resolve, &json!({})), &cookie)).await.status, StatusCode::OK);
    assert_eq!(send(&app, with_cookie(post_json(&resolve, &json!({})), &cookie)).await.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_agent_on_one_process_reaches_a_visitor_on_another() {
    let Some(url) = fresh_pg_database("an_agent_on_one_process_reaches_a_visitor_on_another").await else { return };
    sottovoce_server::create_agent(&url, AGENT_EMAIL, AGENT_PASSWORD).await.unwrap();
    let agent_side = ServerProcess::start(&url, &[]);
    let visitor_side = ServerProcess::start(&url, &[]);
    assert_ne!(agent_side.base, visitor_side.base);
    let http = reqwest::Client::new();
    let (a, v) = (&agent_side.base, &visitor_side.base);

    // The agent signs in on A and follows changes there.
    let login = http.post(format!("{a}/api/agent/login")).json(&json!({ "email": AGENT_EMAIL, "password": AGENT_PASSWORD })).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let mut agent_events = http.get(format!("{a}/api/agent/events")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(agent_events.status(), 200);

    // The visitor escalates on B and listens there.
    let created: Value = http.post(format!("{v}/api/escalations")).json(&escalation(None)).send().await.unwrap().json().await.unwrap();
    let (id, token) = (created["id"].as_str().unwrap().to_owned(), created["token"].as_str().unwrap().to_owned());
    let mut visitor_events = http
        .get(format!("{v}/api/escalations/{id}/events"))
        .bearer_auth(&token)
        .header("last-event-id", "3")
        .send()
        .await
        .unwrap();

    async fn read_until(response: &mut reqwest::Response, seen: &mut String, needle: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !seen.contains(needle) {
            let chunk = tokio::time::timeout_at(deadline, response.chunk()).await.unwrap_or_else(|_| panic!("{needle:?} in time; saw {seen}"));
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("stream open")));
        }
    }

    // A hears about the escalation made on B, without polling.
    let mut seen_by_agent = String::new();
    read_until(&mut agent_events, &mut seen_by_agent, &id).await;
    assert!(seen_by_agent.contains(r#""kind":"created""#), "{seen_by_agent}");
    let list: Value = http.get(format!("{a}/api/agent/conversations")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["conversations"][0]["id"], id.as_str());

    // The agent replies on A; the visitor's stream on B delivers it.
    let reply = http
        .post(format!("{a}/api/agent/conversations/{id}/messages"))
        .header("cookie", &cookie)
        .json(&json!({ "text": "Hello from process A" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let mut seen_by_visitor = String::new();
    read_until(&mut visitor_events, &mut seen_by_visitor, "Hello from process A").await;

    // The visitor answers on B; the agent's stream on A announces it.
    let answer = http
        .post(format!("{v}/api/escalations/{id}/messages"))
        .bearer_auth(&token)
        .json(&json!({ "text": "thanks, B here" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    read_until(&mut agent_events, &mut seen_by_agent, r#""kind":"message""#).await;

    // Resolving on A reaches the visitor on B.
    let resolved = http.post(format!("{a}/api/agent/conversations/{id}/resolve")).header("cookie", &cookie).json(&json!({})).send().await.unwrap();
    assert_eq!(resolved.status(), 200);
    read_until(&mut visitor_events, &mut seen_by_visitor, "event: status").await;
}
