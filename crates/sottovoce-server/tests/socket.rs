//! The server on a real socket (ephemeral port): a visitor and an agent over HTTP, live replies
//! over SSE, and signed webhooks retried after a failure.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use sottovoce_server::{webhook, WebhookConfig};

use common::*;

const SECRET: &str = "whsec-test-0123456789";

#[tokio::test]
async fn visitor_and_agent_over_http_with_live_replies_and_signed_webhooks() {
    let (hook_url, received) = webhook_receiver(true).await;
    let s = server(|c| c.webhook = Some(WebhookConfig::new(hook_url, SECRET))).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = s.app.clone();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    let http = reqwest::Client::new();

    // The visitor escalates and starts listening.
    let created: Value = http
        .post(format!("{base}/api/escalations"))
        .json(&escalation(Some("socket-test-key-0001")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (created["id"].as_str().unwrap().to_owned(), created["token"].as_str().unwrap().to_owned());
    let mut stream = http
        .get(format!("{base}/api/escalations/{id}/events"))
        .bearer_auth(&token)
        .header("last-event-id", "3")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    // The agent signs in with a cookie and replies.
    let login = http
        .post(format!("{base}/api/agent/login"))
        .json(&json!({ "email": AGENT_EMAIL, "password": AGENT_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let reply = http
        .post(format!("{base}/api/agent/conversations/{id}/messages"))
        .header("cookie", &cookie)
        .json(&json!({ "text": "Hi Ana, I can help with that return." }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);

    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("help with that return") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await.expect("reply in time").unwrap().expect("open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_eq!(seen.matches("event: message").count(), 1, "only what came after Last-Event-ID: {seen}");

    let resolved = http
        .post(format!("{base}/api/agent/conversations/{id}/resolve"))
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status(), 200);

    // Webhooks: the first attempt was refused, and retried; every body is signed.
    wait_until("three webhook deliveries", || received.lock().unwrap().len() >= 3).await;
    let received = received.lock().unwrap().clone();
    let mut events = Vec::new();
    for (headers, body) in received.iter() {
        let signature = headers["x-sottovoce-signature"].to_str().unwrap();
        assert_eq!(signature, webhook::sign(SECRET.as_bytes(), body), "signature over the raw body");
        assert_ne!(signature, webhook::sign(b"another secret", body));
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(headers["x-sottovoce-event"].to_str().unwrap(), payload["event"].as_str().unwrap());
        events.push(payload);
    }
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(names.contains(&"escalation.created"), "{names:?}");
    assert!(names.contains(&"message.created"), "{names:?}");
    assert!(names.contains(&"escalation.resolved"), "{names:?}");
    let created = events.iter().find(|e| e["event"] == "escalation.created").unwrap();
    assert_eq!(created["data"]["conversation"]["id"], id.as_str());
    assert_eq!(created["data"]["messages"][0]["intent"], "returns");

    // The sender counts a delivery once the receiver's answer is back: poll briefly.
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        if metrics.contains("sottovoce_webhook_deliveries_total{result=\"ok\"} 3") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(metrics.contains("sottovoce_webhook_deliveries_total{result=\"retried\"} 1"), "{metrics}");
    assert!(metrics.contains("sottovoce_webhook_deliveries_total{result=\"ok\"} 3"), "{metrics}");
}

#[tokio::test]
async fn webhooks_wait_in_the_database_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("hooks.db").display());
    // A receiver that is down: a port nobody listens on any more.
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };

    // First life, in a runtime of its own: the escalation is stored, the webhook fails.
    let first_db = db.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let mut config = sottovoce_server::Config::new(first_db);
            config.webhook = Some(WebhookConfig::new(down, SECRET));
            let app = sottovoce_server::build_app(config).await.unwrap();
            escalate(&app, &escalation(None)).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        });
        // Dropping the runtime ends every task, as a crash would.
    })
    .join()
    .unwrap();

    // Second life on the same database, with a receiver that works (after one 500).
    let (hook_url, received) = webhook_receiver(true).await;
    let mut config = sottovoce_server::Config::new(db);
    config.webhook = Some(WebhookConfig::new(hook_url, SECRET));
    let _app = sottovoce_server::build_app(config).await.unwrap();
    wait_until("the escalation.created queued before the restart", || !received.lock().unwrap().is_empty()).await;
    let (headers, body) = received.lock().unwrap()[0].clone();
    assert_eq!(headers["x-sottovoce-event"], "escalation.created");
    assert_eq!(headers["x-sottovoce-signature"].to_str().unwrap(), webhook::sign(SECRET.as_bytes(), &body));
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["data"]["messages"][0]["intent"], "returns");
}
