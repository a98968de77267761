//! The owner's loop on the server: the widget's anonymous KPI reports (`fixtures/kpi-reports.json`)
//! are checked, stored once per conversation, summed per day and locale for owners only, and
//! exported as CSV.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/kpi-reports.json")).expect("kpi-reports.json parses")
}

async fn reports_are_checked_summed_for_owners_and_exported(app: &axum::Router, url: &str) {
    let fixture = fixture();
    for report in fixture["reports"].as_array().unwrap() {
        let answer = send(app, post_json("/api/kpis", report)).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
    }
    for case in fixture["refused"].as_array().unwrap() {
        let answer = send(app, post_json("/api/kpis", &case["body"])).await;
        let want = case["status"].as_u64().unwrap_or(422) as u16;
        assert_eq!(answer.status.as_u16(), want, "{}: {}", case["case"], answer.text);
        if let Some(field) = case.get("field") {
            assert_eq!(&answer.json["error"]["field"], field, "{}: {}", case["case"], answer.text);
        }
    }

    // Agents sign in, but only owners read the numbers.
    assert_eq!(send(app, get("/api/owner/kpis")).await.status, StatusCode::UNAUTHORIZED);
    let cookie = sign_in(app).await;
    let me = send(app, with_cookie(get("/api/agent/me"), &cookie)).await;
    assert_eq!(me.json["role"], "agent");
    let denied = send(app, with_cookie(get("/api/owner/kpis"), &cookie)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.text);
    assert_eq!(send(app, with_cookie(get("/api/owner/kpis.csv"), &cookie)).await.status, StatusCode::FORBIDDEN);
    sottovoce_server::set_owner(url, AGENT_EMAIL, true).await.unwrap();
    assert_eq!(send(app, with_cookie(get("/api/agent/me"), &cookie)).await.json["role"], "owner");

    let figures = send(app, with_cookie(get("/api/owner/kpis?days=7"), &cookie)).await;
    assert_eq!(figures.status, StatusCode::OK, "{}", figures.text);
    assert_eq!(figures.json["total"], fixture["total"], "{}", figures.json["total"]);
    let days = figures.json["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["day"], figures.json["to"]);
    assert_eq!(days[6]["total"], fixture["total"], "everything arrived today");
    assert_eq!(days[0]["total"]["conversations"], 0);
    for (locale, n) in fixture["locales"].as_object().unwrap() {
        assert_eq!(&figures.json["locales"][locale]["conversations"], n, "{locale}");
    }
    assert_eq!(send(app, with_cookie(get("/api/owner/kpis?days=0"), &cookie)).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let csv = send(app, with_cookie(get("/api/owner/kpis.csv?days=7"), &cookie)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"sottovoce-kpis-"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], sottovoce_server::owner::CSV_HEADER);
    let today = figures.json["to"].as_str().unwrap();
    let rows: Vec<String> = fixture["csv_rows"].as_array().unwrap().iter().map(|r| format!("{today},{}", r.as_str().unwrap())).collect();
    assert_eq!(lines[1..], rows.iter().map(String::as_str).collect::<Vec<_>>()[..], "{}", csv.text);

    // Cross-site pages cannot read the owner's numbers.
    let mut cross = with_cookie(get("/api/owner/kpis"), &cookie);
    cross.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(app, cross).await.status, StatusCode::FORBIDDEN);
}

async fn shared_questions_are_checked_redacted_grouped_and_exported_for_owners(app: &axum::Router, url: &str) {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/shared-questions.json")).unwrap();
    for q in fixture["shared"].as_array().unwrap() {
        let answer = send(app, post_json("/api/feedback", q)).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
    }
    for case in fixture["refused"].as_array().unwrap() {
        let mut body = case["body"].clone();
        if body["text"] == "LONG" {
            body["text"] = "x".repeat(sottovoce::protocol::MAX_SHARED_CHARS + 1).into();
        }
        let answer = send(app, post_json("/api/feedback", &body)).await;
        assert_eq!(answer.status.as_u16(), case["status"].as_u64().unwrap_or(422) as u16, "{}: {}", case["case"], answer.text);
        if let Some(field) = case.get("field") {
            assert_eq!(&answer.json["error"]["field"], field, "{}", case["case"]);
        }
    }
    let cookie = sign_in(app).await;
    assert_eq!(send(app, with_cookie(get("/api/owner/unanswered"), &cookie)).await.status, StatusCode::FORBIDDEN);
    sottovoce_server::set_owner(url, AGENT_EMAIL, true).await.unwrap();
    let view = send(app, with_cookie(get("/api/owner/unanswered?days=1"), &cookie)).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text);
    assert_eq!(view.json["total"], 5, "the retried question is stored once");
    let got: Vec<(u64, &str)> =
        view.json["groups"].as_array().unwrap().iter().map(|g| (g["count"].as_u64().unwrap(), g["examples"][0].as_str().unwrap())).collect();
    let want: Vec<(u64, &str)> =
        fixture["groups"].as_array().unwrap().iter().map(|g| (g["count"].as_u64().unwrap(), g["head"].as_str().unwrap())).collect();
    assert_eq!(got, want, "{}", view.text);
    assert_eq!(view.json["groups"][3]["picked"], fixture["groups"][3]["picked"]);
    let jsonl = send(app, with_cookie(get("/api/owner/unanswered.jsonl"), &cookie)).await;
    let lines: Vec<Value> = jsonl.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], serde_json::json!({ "text": "my card [redacted card number] was charged twice for a gift card", "locale": "en" }));
}

#[tokio::test]
async fn the_owners_loop_on_sqlite() {
    let server = server(|_| {}).await;
    reports_are_checked_summed_for_owners_and_exported(&server.app, &server.url).await;
    let server = server_fresh().await;
    shared_questions_are_checked_redacted_grouped_and_exported_for_owners(&server.app, &server.url).await;
}

async fn server_fresh() -> TestServer {
    server(|_| {}).await
}

#[tokio::test]
async fn the_owners_loop_on_postgresql() {
    for part in 0..2 {
        let Some(url) = fresh_pg_database("owner_loop").await else { return };
        sottovoce_server::create_agent(&url, AGENT_EMAIL, AGENT_PASSWORD).await.unwrap();
        let app = sottovoce_server::router(sottovoce_server::AppState::new(sottovoce_server::Config::new(url.clone())).await.unwrap());
        if part == 0 {
            reports_are_checked_summed_for_owners_and_exported(&app, &url).await;
        } else {
            shared_questions_are_checked_redacted_grouped_and_exported_for_owners(&app, &url).await;
        }
    }
}
