//! The escalation API through `oneshot` (no socket): visitor, agent, guards, documents.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};

use common::*;

#[tokio::test]
async fn escalation_round_trip_for_the_visitor() {
    let s = server(|_| {}).await;
    let answer = send(&s.app, post_json("/api/escalations", &escalation(None))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let id = answer.json["id"].as_str().unwrap();
    let token = answer.json["token"].as_str().unwrap();
    assert_eq!(answer.json["status"], "open");
    assert_eq!(token.len(), 64, "256 bits as hex");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));

    let uri = format!("/api/escalations/{id}/messages");
    let read = send(&s.app, with_bearer(get(&uri), token)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let messages = read.json["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0]["intent"], "returns");
    assert_eq!(messages[0]["confidence"], 0.91);
    assert_eq!(messages[0]["sentiment"], 0.1);
    assert_eq!(messages[0]["created_ms"], 1_700_000_000_000i64);
    assert_eq!(messages[1]["author"], "bot");
    assert!(messages[1].get("intent").is_none());

    // Only the token proves who the visitor is.
    assert_eq!(send(&s.app, get(&uri)).await.status, StatusCode::UNAUTHORIZED);
    let wrong = send(&s.app, with_bearer(get(&uri), &"0".repeat(64))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json["error"]["code"], "unauthorized");
    let other = send(&s.app, with_bearer(get("/api/escalations/c_nope/messages"), token)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    // A visitor message; a retry with the same client id is stored once.
    let post = || with_bearer(post_json(&uri, &json!({ "text": "are you there?", "client_id": "m-1" })), token);
    let first = send(&s.app, post()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = send(&s.app, post()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(first.json["id"], again.json["id"]);
    let after = send(&s.app, with_bearer(get(&format!("{uri}?after={}", messages[2]["id"])), token)).await;
    assert_eq!(after.json["messages"].as_array().unwrap().len(), 1);

    // A card number that slipped past the widget is not stored.
    let card = send(&s.app, with_bearer(post_json(&uri, &json!({ "text": "my card is 4111 1111 1111 1111" })), token)).await;
    assert_eq!(card.json["text"], "my card is [redacted card number]");
    let stored = send(&s.app, with_bearer(get(&uri), token)).await;
    // Each stored text, not the whole body: a `created_ms` like 1796411158442 holds "4111" too.
    let texts: Vec<&str> = stored.json["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(!texts.is_empty() && texts.iter().all(|t| !t.contains("4111")), "{}", stored.text);
}

#[tokio::test]
async fn a_retried_escalation_is_stored_once_and_gets_the_same_token() {
    let s = server(|_| {}).await;
    let body = escalation(Some("key-0123456789abcdef"));
    let first = send(&s.app, post_json("/api/escalations", &body)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let retry = send(&s.app, post_json("/api/escalations", &body)).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.text);
    assert_eq!(first.json["id"], retry.json["id"]);
    assert_eq!(first.json["token"], retry.json["token"]);

    // The header works too, and must agree with the field.
    let mut request = post_json("/api/escalations", &body);
    request.headers_mut().insert("idempotency-key", "key-0123456789abcdef".parse().unwrap());
    assert_eq!(send(&s.app, request).await.json["id"], first.json["id"]);
    let mut request = post_json("/api/escalations", &body);
    request.headers_mut().insert("idempotency-key", "another-key-0123456789".parse().unwrap());
    assert_eq!(send(&s.app, request).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The same key with another body is refused rather than silently answered.
    let mut changed = body.clone();
    changed["locale"] = "es".into();
    let reused = send(&s.app, post_json("/api/escalations", &changed)).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.json["error"]["field"], "idempotency_key");

    let cookie = sign_in(&s.app).await;
    let list = send(&s.app, with_cookie(get("/api/agent/conversations"), &cookie)).await;
    assert_eq!(list.json["conversations"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_escalations_get_clear_errors() {
    let s = server(|_| {}).await;
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("fixtures/invalid-escalations.json")).expect("fixture is JSON");
    for case in &cases {
        let name = case["case"].as_str().unwrap();
        let request = match case.get("raw") {
            Some(raw) => Request::post("/api/escalations")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(raw.as_str().unwrap().to_owned()))
                .unwrap(),
            None => post_json("/api/escalations", &case["body"]),
        };
        let answer = send(&s.app, request).await;
        assert_eq!(answer.status.as_u16() as u64, case["status"].as_u64().unwrap(), "{name}: {}", answer.text);
        if let Some(field) = case.get("field") {
            assert_eq!(&answer.json["error"]["field"], field, "{name}: {}", answer.text);
        }
        if let Some(part) = case.get("message_contains") {
            let message = answer.json["error"]["message"].as_str().unwrap_or("");
            assert!(message.contains(part.as_str().unwrap()), "{name}: {message}");
        }
    }
    let no_type = Request::post("/api/escalations").body(Body::from(escalation(None).to_string())).unwrap();
    let answer = send(&s.app, no_type).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.json["error"]["message"].as_str().unwrap().contains("Content-Type"), "{}", answer.text);
}

#[tokio::test]
async fn agents_sign_in_list_open_reply_and_resolve() {
    let s = server(|_| {}).await;
    let (first_id, _) = escalate(&s.app, &escalation(None)).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut es = escalation(None);
    es["locale"] = "es".into();
    es["transcript"] = json!([{ "author": "visitor", "text": "hola", "intent": "greet", "confidence": 0.7 }]);
    let (second_id, token) = escalate(&s.app, &es).await;

    // Without a session nothing is visible.
    let anonymous = send(&s.app, get("/api/agent/conversations")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let bad = send(&s.app, post_json("/api/agent/login", &json!({ "email": AGENT_EMAIL, "password": "wrong password" }))).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.headers.get(header::SET_COOKIE).is_none());
    let unknown = send(&s.app, post_json("/api/agent/login", &json!({ "email": "who@x.example", "password": AGENT_PASSWORD }))).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.json, bad.json, "unknown email and wrong password look the same");

    let login = send(&s.app, post_json("/api/agent/login", &json!({ "email": " Agent@Shop.example ", "password": AGENT_PASSWORD }))).await;
    let set_cookie = login.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let me = send(&s.app, with_cookie(get("/api/agent/me"), &cookie)).await;
    assert_eq!(me.json["email"], AGENT_EMAIL);

    // Most urgent first (tests/triage.rs has the rule): the unhappy visitor waiting since an old
    // message before the newer greeting, with the bot's last intent.
    let list = send(&s.app, with_cookie(get("/api/agent/conversations"), &cookie)).await;
    let ids: Vec<&str> = list.json["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [first_id.as_str(), second_id.as_str()]);
    assert_eq!(list.json["conversations"][0]["last_intent"], "human");
    assert_eq!(list.json["conversations"][0]["profile"]["name"], "Ana");
    assert_eq!(list.json["conversations"][0]["priority"]["band"], "high", "{}", list.text);

    // Suggested replies come from the bot's reply table, in the conversation's locale, with
    // the visitor's name filled in.
    let opened = send(&s.app, with_cookie(get(&format!("/api/agent/conversations/{second_id}")), &cookie)).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    assert_eq!(opened.json["messages"][0]["intent"], "greet");
    assert_eq!(opened.json["summary"]["intents"], json!(["greet"]), "{}", opened.json["summary"]);
    assert_eq!(opened.json["summary"]["visitor_messages"], 1);
    let suggestion = &opened.json["suggestions"][0];
    assert_eq!(suggestion["intent"], "greet");
    assert!(suggestion["text"].as_str().unwrap().contains("Ana"), "{suggestion}");
    assert!(suggestion["text"].as_str().unwrap().contains("Hola"), "{suggestion}");
    // "human" has no reply in the fixture bot: no suggestion rather than a wrong one.
    let first = send(&s.app, with_cookie(get(&format!("/api/agent/conversations/{first_id}")), &cookie)).await;
    assert_eq!(first.json["suggestions"], json!([]));

    // Reply; the visitor reads it.
    let reply_uri = format!("/api/agent/conversations/{second_id}/messages");
    let reply = send(&s.app, with_cookie(post_json(&reply_uri, &json!({ "text": "¡Hola Ana! <b>Soy Luis</b>" })), &cookie)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json["author_name"], "agent");
    let read = send(&s.app, with_bearer(get(&format!("/api/escalations/{second_id}/messages")), &token)).await;
    let last = read.json["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["author"], "agent");
    assert_eq!(last["text"], "¡Hola Ana! <b>Soy Luis</b>", "text is kept verbatim, never interpreted");

    // Resolve: gone from the open list, the visitor can no longer post, the agent no longer reply.
    let resolve_uri = format!("/api/agent/conversations/{second_id}/resolve");
    let resolved = send(&s.app, with_cookie(post_json(&resolve_uri, &json!({})), &cookie)).await;
    assert_eq!(resolved.json["status"], "resolved", "{}", resolved.text);
    let twice = send(&s.app, with_cookie(post_json(&resolve_uri, &json!({})), &cookie)).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let list = send(&s.app, with_cookie(get("/api/agent/conversations"), &cookie)).await;
    assert_eq!(list.json["conversations"].as_array().unwrap().len(), 1);
    let closed = send(&s.app, with_cookie(get("/api/agent/conversations?status=resolved"), &cookie)).await;
    assert_eq!(closed.json["conversations"][0]["id"], second_id.as_str());
    let late = send(&s.app, with_bearer(post_json(&format!("/api/escalations/{second_id}/messages"), &json!({ "text": "hello?" })), &token)).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    let late_reply = send(&s.app, with_cookie(post_json(&reply_uri, &json!({ "text": "hi" })), &cookie)).await;
    assert_eq!(late_reply.status, StatusCode::CONFLICT);

    // Signing out ends the session.
    let out = send(&s.app, with_cookie(post_json("/api/agent/logout", &json!({})), &cookie)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = send(&s.app, with_cookie(get("/api/agent/me"), &cookie)).await;
    assert_eq!((me.status, &me.json["email"]), (StatusCode::OK, &Value::Null));
    let anonymous = send(&s.app, with_cookie(get("/api/agent/conversations"), &cookie)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// Reads SSE frames from a streaming body until `want` returns true or 5 s pass.
async fn read_sse_until(body: &mut Body, seen: &mut String, want: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !want(seen) {
        let frame = tokio::time::timeout_at(deadline, body.frame()).await.expect("SSE event in time").expect("stream open").unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

#[tokio::test]
async fn visitor_stream_delivers_agent_replies_live_and_resumes_after_last_event_id() {
    let s = server(|_| {}).await;
    let (id, token) = escalate(&s.app, &escalation(None)).await;
    let cookie = sign_in(&s.app).await;
    let events = format!("/api/escalations/{id}/events");

    let response = tower::ServiceExt::oneshot(s.app.clone(), with_bearer(get(&events), &token)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = response.into_body();
    let mut seen = String::new();
    read_sse_until(&mut body, &mut seen, |s| s.matches("event: message").count() == 3).await;

    let reply_uri = format!("/api/agent/conversations/{id}/messages");
    let reply = send(&s.app, with_cookie(post_json(&reply_uri, &json!({ "text": "Hi Ana, Luis here." })), &cookie)).await;
    let reply_id = reply.json["id"].as_i64().unwrap();
    read_sse_until(&mut body, &mut seen, |s| s.contains("Luis here")).await;
    assert!(seen.contains(&format!("id: {reply_id}\n")), "{seen}");

    send(&s.app, with_cookie(post_json(&format!("/api/agent/conversations/{id}/resolve"), &json!({})), &cookie)).await;
    read_sse_until(&mut body, &mut seen, |s| s.contains("event: status")).await;
    assert!(seen.contains(r#"{"status":"resolved"}"#), "{seen}");

    // A reconnect with Last-Event-ID gets only what came after; `?token=` works for EventSource.
    let mut request = get(&format!("{events}?token={token}"));
    request.headers_mut().insert("last-event-id", (reply_id - 1).to_string().parse().unwrap());
    let response = tower::ServiceExt::oneshot(s.app.clone(), request).await.unwrap();
    let mut body = response.into_body();
    let mut resumed = String::new();
    read_sse_until(&mut body, &mut resumed, |s| s.contains("event: status")).await;
    assert_eq!(resumed.matches("event: message").count(), 1, "{resumed}");
    assert!(resumed.contains("Luis here"));

    let forged = tower::ServiceExt::oneshot(s.app.clone(), get(&format!("{events}?token=forged"))).await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn agent_stream_announces_every_change() {
    let s = server(|_| {}).await;
    let cookie = sign_in(&s.app).await;
    let response = tower::ServiceExt::oneshot(s.app.clone(), with_cookie(get("/api/agent/events"), &cookie)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let (id, token) = escalate(&s.app, &escalation(None)).await;
    let mut seen = String::new();
    read_sse_until(&mut body, &mut seen, |s| s.contains("created")).await;
    send(&s.app, with_bearer(post_json(&format!("/api/escalations/{id}/messages"), &json!({ "text": "hello?" })), &token)).await;
    read_sse_until(&mut body, &mut seen, |s| s.contains(r#""kind":"message""#)).await;
    assert!(seen.contains(&id), "{seen}");
    let anonymous = tower::ServiceExt::oneshot(s.app.clone(), get("/api/agent/events")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let s = server(|_| {}).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/escalations")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type,idempotency-key")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = send(&s.app, preflight("https://shop.example")).await;
    assert_eq!(allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://shop.example");
    let refused = send(&s.app, preflight("https://evil.example")).await;
    assert!(refused.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // The agent API is same-origin only.
    let mut agent = preflight("https://shop.example");
    *agent.uri_mut() = "/api/agent/login".parse().unwrap();
    assert!(send(&s.app, agent).await.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn body_size_and_rate_limits() {
    let s = server(|c| {
        c.limits.body_bytes = 4096;
        c.limits.ip_per_second = 0.01;
        c.limits.ip_burst = 6.0;
        c.limits.conversation_per_second = 0.01;
        c.limits.conversation_burst = 2.0;
    })
    .await;
    let mut big = escalation(None);
    big["transcript"][0]["text"] = "x".repeat(5000).into();
    let too_big = send(&s.app, post_json("/api/escalations", &big)).await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", too_big.text);

    let (id, token) = escalate(&s.app, &escalation(None)).await;
    let uri = format!("/api/escalations/{id}/messages");
    let post = |text: &str| with_bearer(post_json(&uri, &json!({ "text": text })), &token);
    assert_eq!(send(&s.app, post("one")).await.status, StatusCode::CREATED);
    assert_eq!(send(&s.app, post("two")).await.status, StatusCode::CREATED);
    let limited = send(&s.app, post("three")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "per conversation");
    assert!(limited.headers.contains_key(header::RETRY_AFTER));

    // 5 requests so far from this client (oneshot has no peer address: all share one bucket);
    // the sixth spends the burst of 6.
    assert_eq!(send(&s.app, get("/api/openapi.json")).await.status, StatusCode::OK);
    let per_ip = send(&s.app, get("/api/openapi.json")).await;
    assert_eq!(per_ip.status, StatusCode::TOO_MANY_REQUESTS, "per IP");
    assert_eq!(per_ip.json["error"]["code"], "rate_limited");
    // Health and metrics stay reachable for monitoring.
    assert_eq!(send(&s.app, get("/healthz")).await.status, StatusCode::OK);
    let metrics = send(&s.app, get("/metrics")).await;
    assert!(metrics.text.contains("sottovoce_rate_limited_total 2\n"), "{}", metrics.text);
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let s = server(|_| {}).await;
    let health = send(&s.app, get("/healthz")).await;
    assert_eq!(health.json["status"], "ok");
    escalate(&s.app, &escalation(None)).await;
    let metrics = send(&s.app, get("/metrics")).await;
    assert!(metrics.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(metrics.text.contains("# TYPE sottovoce_escalations_created_total counter"));
    assert!(metrics.text.contains("sottovoce_escalations_created_total 1\n"), "{}", metrics.text);

    let doc = send(&s.app, get("/api/openapi.json")).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.json["openapi"].as_str().unwrap().starts_with("3."));
    let routes = [
        ("/api/escalations", "post"),
        ("/api/escalations/{id}/messages", "get"),
        ("/api/escalations/{id}/messages", "post"),
        ("/api/escalations/{id}/events", "get"),
        ("/api/agent/login", "post"),
        ("/api/agent/logout", "post"),
        ("/api/agent/me", "get"),
        ("/api/agent/conversations", "get"),
        ("/api/agent/conversations/{id}", "get"),
        ("/api/agent/conversations/{id}/messages", "post"),
        ("/api/agent/conversations/{id}/resolve", "post"),
        ("/api/agent/conversations/{id}/assign", "post"),
        ("/api/agent/agents", "get"),
        ("/api/agent/canned", "get"),
        ("/api/agent/canned", "post"),
        ("/api/agent/canned/{id}", "delete"),
        ("/api/agent/events", "get"),
        ("/api/kpis", "post"),
        ("/api/owner/kpis", "get"),
        ("/api/owner/kpis.csv", "get"),
        ("/api/feedback", "post"),
        ("/api/owner/unanswered", "get"),
        ("/api/owner/unanswered.jsonl", "get"),
        ("/api/availability", "get"),
        ("/api/escalations/{id}/email", "post"),
        ("/api/escalations/{id}/transcript", "post"),
        ("/api/escalations/resume", "post"),
        ("/api/escalations/by-customer", "post"),
        ("/api/agent/presence", "post"),
        ("/api/mail/inbound", "post"),
        ("/api/channels/{name}", "post"),
        ("/api/submissions", "post"),
        ("/api/agent/submissions", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
    ];
    let paths = doc.json["paths"].as_object().unwrap();
    for (path, method) in routes {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "openapi.json lacks {method} {path}");
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, routes.len(), "openapi.json documents a route the server does not have");
}

#[tokio::test]
async fn inbox_is_served_under_a_strict_csp_and_builds_text_nodes_only() {
    let s = server(|_| {}).await;
    for (path, kind) in [
        ("/inbox/", "text/html"),
        ("/inbox/inbox.js", "text/javascript"),
        ("/inbox/inbox.css", "text/css"),
        ("/inbox/leads.html", "text/html"),
        ("/inbox/leads.js", "text/javascript"),
    ] {
        let answer = send(&s.app, get(path)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with(kind), "{path}");
        let csp = answer.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
        assert!(!answer.text.is_empty(), "{path} is empty");
    }
    let page = send(&s.app, get("/inbox/")).await.text;
    assert!(page.contains(r#"<script src="inbox.js" defer></script>"#));
    assert!(!page.contains("style=") && !page.contains("<style"), "no inline styles");
    assert_eq!(page.matches("<script").count(), 1, "no inline scripts");
    for path in ["/inbox/inbox.js", "/inbox/dashboard.js", "/inbox/leads.js"] {
        let script = send(&s.app, get(path)).await.text;
        for forbidden in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            assert!(!script.contains(forbidden), "{path} uses {forbidden}");
        }
    }
    assert_eq!(send(&s.app, get("/inbox")).await.status, StatusCode::PERMANENT_REDIRECT);
}

/// Identity verification: the site's `user_hash` marks the escalation verified only when it is
/// HMAC-SHA256(identity secret, customer id); a wrong or absent hash, or no secret configured,
/// leaves it unverified, and the visitor's message is stored every time.
#[tokio::test]
async fn escalations_are_verified_only_by_the_right_user_hash() {
    const SECRET: &str = "site-and-server-share-this";
    let right = sottovoce_server::identity::user_hash(SECRET, "c-42");
    let other = sottovoce_server::identity::user_hash(SECRET, "c-43");
    let cases: [(&str, bool, Option<&str>, &str); 5] = [
        ("right hash", true, Some(right.as_str()), "verified"),
        ("wrong hash", true, Some("00ff"), "unverified"),
        ("another customer's hash", true, Some(other.as_str()), "unverified"),
        ("absent hash", true, None, "unverified"),
        ("no secret configured", false, Some(right.as_str()), "unverified"),
    ];
    for (case, configured, hash, expected) in cases {
        let s = server(|c| c.identity_secret = configured.then(|| SECRET.to_owned())).await;
        let mut body = escalation(None);
        body["customer"] = json!({ "id": "c-42" });
        if let Some(hash) = hash {
            body["customer"]["user_hash"] = hash.into();
        }
        let (id, _) = escalate(&s.app, &body).await;
        let cookie = sign_in(&s.app).await;
        let opened = send(&s.app, with_cookie(get(&format!("/api/agent/conversations/{id}")), &cookie)).await;
        let c = &opened.json["conversation"];
        assert_eq!((c["identity"].as_str(), c["customer_id"].as_str()), (Some(expected), Some("c-42")), "{case}: {c}");
        assert_eq!(opened.json["messages"].as_array().unwrap().len(), 3, "{case}: the visitor's messages are kept");
        let list = send(&s.app, with_cookie(get("/api/agent/conversations"), &cookie)).await;
        assert_eq!(list.json["conversations"][0]["identity"], expected, "{case}");
    }

    // No customer at all; and a server that does not accept `customer_id` drops it.
    let s = server(|c| c.identity_secret = Some(SECRET.to_owned())).await;
    let (plain, _) = escalate(&s.app, &escalation(None)).await;
    let narrow = server(|c| {
        c.identity_secret = Some(SECRET.to_owned());
        c.profile_fields = vec!["name".into(), "visits".into()];
    })
    .await;
    let mut body = escalation(None);
    body["customer"] = json!({ "id": "c-42", "user_hash": right });
    let (dropped, _) = escalate(&narrow.app, &body).await;
    for (app, id) in [(&s.app, plain), (&narrow.app, dropped)] {
        let cookie = sign_in(app).await;
        let opened = send(app, with_cookie(get(&format!("/api/agent/conversations/{id}")), &cookie)).await;
        let c = &opened.json["conversation"];
        assert_eq!(c["identity"], "unverified", "{c}");
        assert!(c.get("customer_id").is_none(), "{c}");
    }
}

#[tokio::test]
async fn the_agents_summary_lists_what_the_visitor_mentioned() {
    let s = server(|_| {}).await;
    let mut body = escalation(None);
    body["transcript"] = json!([
        { "author": "visitor", "text": "please write to ana@example.com about order 4521", "intent": "human", "sentiment": -0.2 },
        { "author": "bot", "text": "Connecting you." },
        { "author": "visitor", "text": "my email is ana@example.com", "sentiment": -0.6 }
    ]);
    let (id, _) = escalate(&s.app, &body).await;
    let cookie = sign_in(&s.app).await;
    let opened = send(&s.app, with_cookie(get(&format!("/api/agent/conversations/{id}")), &cookie)).await;
    let summary = &opened.json["summary"];
    assert_eq!(summary["intents"], json!(["human"]), "{summary}");
    assert_eq!(summary["mood"]["trend"], "worsening", "{summary}");
    assert_eq!(summary["unrecognised"], 1);
    let mentions = summary["mentions"].as_array().unwrap();
    let emails: Vec<&Value> = mentions.iter().filter(|m| m["entity"] == "email").collect();
    assert_eq!(emails.len(), 1, "mentioned twice, listed once: {summary}");
    assert_eq!(emails[0]["value"], "ana@example.com");
}
