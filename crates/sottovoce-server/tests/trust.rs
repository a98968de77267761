//! Authentication hardening (issue 21, item 3): sign-in back-off per account and per address,
//! sessions rotated at sign-in and revoked at sign-out, cross-site refusal of the agent API,
//! security headers on every response, `/metrics` behind a token.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use common::{get, post_json, send, server, sign_in, with_bearer, with_cookie, AGENT_EMAIL, AGENT_PASSWORD};
use serde_json::json;

fn login(email: &str, password: &str, from: &str) -> Request<Body> {
    let mut request = post_json("/api/agent/login", &json!({ "email": email, "password": password }));
    let addr: SocketAddr = format!("{from}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

/// Wrong passwords to one account: five are free, the sixth still gets 401 but starts a
/// one-second lock, then attempts get 429 with `Retry-After`, and the right password is refused too while the account backs off (before
/// the fix, 92 wrong passwords in a row all got 401).
#[tokio::test]
async fn sign_in_backs_off_per_account() {
    let s = server(|_| {}).await;
    let mut statuses = Vec::new();
    let mut retry_after = Vec::new();
    for _ in 0..8 {
        let answer = send(&s.app, login(AGENT_EMAIL, "wrong", "10.0.0.1")).await;
        statuses.push(answer.status.as_u16());
        retry_after.push(answer.headers.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().parse::<u64>().unwrap()));
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 429, 429]);
    assert_eq!(retry_after[6], Some(1), "first lock is one second");
    let right = send(&s.app, login(AGENT_EMAIL, AGENT_PASSWORD, "10.0.0.2")).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "the right password waits too: {}", right.text);
    // Another account from another address is not affected.
    let other = send(&s.app, login("someone@shop.example", "wrong", "10.0.0.3")).await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    // After the lock runs out the right password works and clears the count.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let right = send(&s.app, login(AGENT_EMAIL, AGENT_PASSWORD, "10.0.0.2")).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
    let wrong = send(&s.app, login(AGENT_EMAIL, "wrong", "10.0.0.2")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "a success resets the count");
}

/// One address trying many accounts (password spraying) backs off on its own: three free
/// failures, the fourth locks it.
#[tokio::test]
async fn sign_in_backs_off_per_address() {
    let s = server(|c| c.limits.login_free_per_address = 3).await;
    let mut statuses = Vec::new();
    for n in 0..5 {
        statuses.push(send(&s.app, login(&format!("guess{n}@shop.example"), "wrong", "10.0.0.9")).await.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429]);
    let elsewhere = send(&s.app, login(AGENT_EMAIL, AGENT_PASSWORD, "10.0.0.10")).await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.text);
}

/// Each sign-in gets a new session id; sign-out deletes the stored session, so a copied
/// cookie stops working server-side (not only in the browser that cleared it).
#[tokio::test]
async fn sessions_rotate_at_sign_in_and_die_at_sign_out() {
    let s = server(|_| {}).await;
    let first = sign_in(&s.app).await;
    let second = sign_in(&s.app).await;
    assert_ne!(first, second, "a new session id at every sign-in");
    let out = send(&s.app, with_cookie(post_json("/api/agent/logout", &json!({})), &first)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    let replay = send(&s.app, with_cookie(get("/api/agent/conversations"), &first)).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "the signed-out cookie is dead: {}", replay.text);
    let other = send(&s.app, with_cookie(get("/api/agent/conversations"), &second)).await;
    assert_eq!(other.status, StatusCode::OK, "the other session lives on: {}", other.text);
}

/// (what, request headers, expected status)
type CrossSiteCase = (&'static str, &'static [(&'static str, &'static str)], u16);

/// The cookie-authenticated agent API answers only same-origin (or non-browser) requests.
#[tokio::test]
async fn agent_api_refuses_cross_site_requests() {
    let s = server(|_| {}).await;
    let cookie = sign_in(&s.app).await;
    let cases: [CrossSiteCase; 7] = [
        ("fetch metadata cross-site", &[("sec-fetch-site", "cross-site")], 403),
        ("fetch metadata same-site (a sibling subdomain)", &[("sec-fetch-site", "same-site")], 403),
        ("fetch metadata same-origin", &[("sec-fetch-site", "same-origin")], 200),
        ("typed in the address bar", &[("sec-fetch-site", "none")], 200),
        ("foreign Origin, no fetch metadata", &[("origin", "https://evil.example"), ("host", "inbox.shop.example")], 403),
        ("own Origin, no fetch metadata", &[("origin", "https://inbox.shop.example"), ("host", "inbox.shop.example")], 200),
        ("no browser headers (curl)", &[], 200),
    ];
    for (what, headers, expected) in cases {
        let mut request = with_cookie(get("/api/agent/conversations"), &cookie);
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse().unwrap());
        }
        let answer = send(&s.app, request).await;
        assert_eq!(answer.status.as_u16(), expected, "{what}: {}", answer.text);
    }
    let mut forged = post_json("/api/agent/login", &json!({ "email": AGENT_EMAIL, "password": AGENT_PASSWORD }));
    forged.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(&s.app, forged).await.status, StatusCode::FORBIDDEN, "no login CSRF either");
}

/// The headers a reviewer expects, on API, inbox, health and error responses alike.
#[tokio::test]
async fn security_headers_on_every_response() {
    let s = server(|_| {}).await;
    let cookie = sign_in(&s.app).await;
    for (uri, cookie) in [("/healthz", None), ("/api/openapi.json", None), ("/inbox/", None), ("/api/agent/conversations", Some(&cookie)), ("/nowhere", None)] {
        let request = match cookie {
            Some(c) => with_cookie(get(uri), c),
            None => get(uri),
        };
        let answer = send(&s.app, request).await;
        let h = |name: header::HeaderName| answer.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{uri}");
        assert_eq!(h(header::REFERRER_POLICY), "no-referrer", "{uri}");
        assert_eq!(h(header::X_FRAME_OPTIONS), "DENY", "{uri}");
        assert!(h(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"), "{uri}");
        assert_eq!(h(header::STRICT_TRANSPORT_SECURITY), "", "{uri}: no HSTS over plain HTTP");
        if uri == "/inbox/" {
            assert_eq!(h(header::CONTENT_SECURITY_POLICY), sottovoce_server::inbox::CSP, "the inbox keeps its own policy");
        }
        if uri.starts_with("/api/agent/") {
            assert_eq!(h(header::CACHE_CONTROL), "no-store", "{uri}");
        }
    }
    let tls = server(|c| c.secure_cookies = true).await;
    let answer = send(&tls.app, get("/healthz")).await;
    assert!(answer.headers.get(header::STRICT_TRANSPORT_SECURITY).is_some_and(|v| v.to_str().unwrap().starts_with("max-age=")));
}

/// `/metrics` with a token configured: 401 without, 403 with a wrong one, 200 with the right.
#[tokio::test]
async fn metrics_behind_a_bearer_token() {
    let open = server(|_| {}).await;
    assert_eq!(send(&open.app, get("/metrics")).await.status, StatusCode::OK);
    let s = server(|c| c.metrics_token = Some("m3tr1cs".into())).await;
    assert_eq!(send(&s.app, get("/metrics")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&s.app, with_bearer(get("/metrics"), "guess")).await.status, StatusCode::FORBIDDEN);
    let answer = send(&s.app, with_bearer(get("/metrics"), "m3tr1cs")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.text.contains("sottovoce_"), "{}", answer.text);
}

/// A conversation token opens at most four live streams at once; the fifth gets 429 until
/// one closes.
#[tokio::test]
async fn live_streams_per_conversation_are_capped() {
    use tower::ServiceExt;
    let s = server(|_| {}).await;
    let (id, token) = common::escalate(&s.app, &common::escalation(None)).await;
    let open = || with_bearer(get(&format!("/api/escalations/{id}/events")), &token);
    let mut held = Vec::new();
    for _ in 0..4 {
        let response = s.app.clone().oneshot(open()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        held.push(response);
    }
    // Status only: without the cap this would be a live stream whose body never ends.
    let fifth = s.app.clone().oneshot(open()).await.unwrap();
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(fifth.headers().contains_key(header::RETRY_AFTER));
    drop(held.pop());
    let again = s.app.clone().oneshot(open()).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK, "a closed stream frees its slot");
}

/// A signed-in agent opens at most `streams_per_agent` inbox streams at once; the next gets 429
/// with `Retry-After`, and a closed stream frees the slot.
#[tokio::test]
async fn inbox_streams_per_agent_are_capped() {
    use tower::ServiceExt;
    let s = server(|c| c.limits.streams_per_agent = 2).await;
    let cookie = sign_in(&s.app).await;
    let open = || with_cookie(get("/api/agent/events"), &cookie);
    let mut held = Vec::new();
    for _ in 0..2 {
        let response = s.app.clone().oneshot(open()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        held.push(response);
    }
    let third = s.app.clone().oneshot(open()).await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key(header::RETRY_AFTER));
    drop(held.pop());
    let again = s.app.clone().oneshot(open()).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK, "a closed stream frees its slot");
}

/// One client address opens at most `streams_per_address` live streams at once, across
/// conversations (each under its own cap of four); the next gets 429 with `Retry-After`, while
/// another address still gets its stream, and a closed stream frees the address's slot.
#[tokio::test]
async fn live_streams_per_address_are_capped() {
    use tower::ServiceExt;
    let s = server(|c| c.limits.streams_per_address = 3).await;
    let from = |request: Request<Body>, ip: &str| {
        let mut request = request;
        request.extensions_mut().insert(ConnectInfo(format!("{ip}:40000").parse::<SocketAddr>().unwrap()));
        request
    };
    let mut conversations = Vec::new();
    for _ in 0..4 {
        conversations.push(common::escalate(&s.app, &common::escalation(None)).await);
    }
    let open = |(id, token): &(String, String), ip: &str| from(with_bearer(get(&format!("/api/escalations/{id}/events")), token), ip);
    let mut held = Vec::new();
    for conversation in &conversations[..3] {
        let response = s.app.clone().oneshot(open(conversation, "10.0.1.1")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        held.push(response);
    }
    // A fourth conversation, well under its own cap: refused, by the address's.
    let next = s.app.clone().oneshot(open(&conversations[3], "10.0.1.1")).await.unwrap();
    assert_eq!(next.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(next.headers().contains_key(header::RETRY_AFTER));
    let elsewhere = s.app.clone().oneshot(open(&conversations[3], "10.0.1.2")).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::OK, "another address is not affected");
    drop(held.pop());
    let again = s.app.clone().oneshot(open(&conversations[3], "10.0.1.1")).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK, "a closed stream frees the address's slot");
}
