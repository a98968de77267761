//! Finished forms the visitor agreed to send (`fixtures/submissions.json`): each accepted one is
//! stored once, redacted, handed to the shop's signed webhook as its event, and listed for
//! agents (leads apart); each refused one names its field. On SQLite and PostgreSQL.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::Value;
use sottovoce_server::{webhook, Config, WebhookConfig};

const SECRET: &str = "whsec-leads-0123456789";

async fn submissions_are_checked_stored_once_signed_and_listed(app: &axum::Router, received: &std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes)>>>) {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/submissions.json")).unwrap();
    let accepted = fixture["accepted"].as_array().unwrap();
    for case in accepted {
        let answer = send(app, post_json("/api/submissions", &case["body"])).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        assert_eq!(answer.json["kind"], case["body"]["kind"]);
    }
    // A retry (the widget resending after a lost answer) is stored once and not signalled twice.
    let again = send(app, post_json("/api/submissions", &accepted[0]["body"])).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    for case in fixture["refused"].as_array().unwrap() {
        let answer = send(app, post_json("/api/submissions", &case["body"])).await;
        assert_eq!(answer.status.as_u16(), case["status"].as_u64().unwrap_or(422) as u16, "{}: {}", case["case"], answer.text);
        if let Some(field) = case.get("field") {
            assert_eq!(&answer.json["error"]["field"], field, "{}: {}", case["case"], answer.text);
        }
    }

    // One signed delivery per accepted submission, with its event.
    wait_until("a webhook per submission", || received.lock().unwrap().len() >= accepted.len()).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let deliveries = received.lock().unwrap().clone();
    assert_eq!(deliveries.len(), accepted.len(), "the retry is not delivered again");
    let mut events: Vec<String> = Vec::new();
    for (headers, body) in &deliveries {
        let signature = headers["x-sottovoce-signature"].to_str().unwrap();
        assert_eq!(signature, webhook::sign(SECRET.as_bytes(), body), "signed over the raw body");
        let json: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(headers["x-sottovoce-event"].to_str().unwrap(), json["event"].as_str().unwrap());
        events.push(json["event"].as_str().unwrap().to_owned());
        if json["data"]["submission"]["fields"]["email"] == "jo@team.example" {
            assert_eq!(json["data"]["submission"]["fields"]["what"], accepted[3]["stored_what"], "card numbers redacted before leaving");
        }
    }
    events.sort();
    let mut want: Vec<String> = accepted.iter().map(|c| c["event"].as_str().unwrap().to_owned()).collect();
    want.sort();
    assert_eq!(events, want);

    // Agents read them; leads apart from the rest.
    assert_eq!(send(app, get("/api/agent/submissions")).await.status, StatusCode::UNAUTHORIZED);
    let cookie = sign_in(app).await;
    let all = send(app, with_cookie(get("/api/agent/submissions"), &cookie)).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json["submissions"].as_array().unwrap().len(), accepted.len());
    let leads = send(app, with_cookie(get("/api/agent/submissions?kind=lead"), &cookie)).await;
    let leads = leads.json["submissions"].as_array().unwrap().clone();
    assert_eq!(leads.len(), 2);
    assert_eq!(leads[0]["fields"]["email"], "jo@team.example", "newest first");
    assert_eq!(leads[1]["fields"], accepted[0]["body"]["fields"]);
    assert_eq!(leads[1]["locale"], "en");
    let bad = send(app, with_cookie(get("/api/agent/submissions?kind=survey"), &cookie)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn submissions_on_sqlite() {
    let (url, received) = webhook_receiver(false).await;
    let s = server(|c| c.webhook = Some(WebhookConfig::new(url, SECRET))).await;
    submissions_are_checked_stored_once_signed_and_listed(&s.app, &received).await;
}

#[tokio::test]
async fn submissions_on_postgresql() {
    let Some(db) = fresh_pg_database("submissions").await else { return };
    sottovoce_server::create_agent(&db, AGENT_EMAIL, AGENT_PASSWORD).await.unwrap();
    let (url, received) = webhook_receiver(false).await;
    let mut config = Config::new(db);
    config.webhook = Some(WebhookConfig::new(url, SECRET));
    let app = sottovoce_server::router(sottovoce_server::AppState::new(config).await.unwrap());
    submissions_are_checked_stored_once_signed_and_listed(&app, &received).await;
}
