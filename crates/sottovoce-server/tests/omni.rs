//! The conversation follows the customer (issue 22): presence and business hours, email
//! continuity through a real SMTP server started here (a minimal RFC 5321 sink on a local
//! port, no mock of the mail crate), the signed link that reopens the conversation, an emailed
//! answer coming back into it, a transcript by email, an identified customer's escalation on a
//! second device, and messaging channels (Telegram through a local stand-in of its Bot API,
//! the generic JSON webhook). With `SOTTOVOCE_TEST_PG_URL` the email path also runs on
//! PostgreSQL.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sottovoce_server::mail::{MailConfig, SmtpConfig, SmtpTls};
use sottovoce_server::presence::BusinessHours;
use sottovoce_server::{AppState, Config};
use tokio::sync::mpsc;

use common::*;

const INBOUND_SECRET: &str = "relay-secret-0123456789";
const VISITOR_EMAIL: &str = "ana@visitor.example";

/// The library's SMTP sink (a real SMTP server on a free local port): messages arrive on the
/// channel.
async fn smtp_sink() -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (port, sottovoce_server::smtp_sink::serve(listener))
}

async fn next_mail(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("an email arrives within 20 s").expect("sink open")
}

fn omni_config(config: &mut Config, smtp_port: u16) {
    config.omni.business_hours = Some(BusinessHours::parse("mon-fri 09:00-18:00 +01:00").unwrap());
    config.omni.smtp = Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp_port,
        tls: SmtpTls::None,
        credentials: None,
        from: "Cumbre support <support@cumbre.example>".into(),
    });
    config.omni.mail = Some(MailConfig {
        public_url: "https://shop.example/help".into(),
        link_secret: "link-secret-for-tests-0123456789abcdef".into(),
        link_ttl_ms: 7 * 24 * 3_600_000,
        inbound_secret: Some(INBOUND_SECRET.into()),
        shop_name: "Cumbre".into(),
    });
}

fn raw_post(uri: &str, body: String, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.body(Body::from(body)).unwrap()
}

/// Nobody online → the widget can say when to expect an answer and offer email; the visitor
/// gives an address (with consent); the agent replies; the email arrives over SMTP in the
/// visitor's locale; its link reopens the conversation; an emailed answer comes back into it,
/// quoted text stripped; and a transcript goes out on request.
async fn night_time_escalation_by_email(app: &Router, mails: &mut mpsc::UnboundedReceiver<String>, locale: &str) {
    let availability = send(app, get("/api/availability")).await;
    assert_eq!(availability.status, StatusCode::OK);
    assert_eq!((availability.json["agents_online"].as_i64(), availability.json["email"].as_bool()), (Some(0), Some(true)));
    assert!(availability.json["expected_reply_ms"].as_i64().is_some(), "{}", availability.text);

    let mut body = escalation(None);
    body["locale"] = locale.into();
    let (id, token) = escalate(app, &body).await;
    let email_uri = format!("/api/escalations/{id}/email");
    let cases = [
        ("no consent", json!({ "email": VISITOR_EMAIL, "consent": false }), StatusCode::UNPROCESSABLE_ENTITY),
        ("not an address", json!({ "email": "ana at visitor", "consent": true }), StatusCode::UNPROCESSABLE_ENTITY),
        ("given", json!({ "email": VISITOR_EMAIL, "consent": true }), StatusCode::OK),
    ];
    for (case, payload, want) in cases {
        let answer = send(app, with_bearer(post_json(&email_uri, &payload), &token)).await;
        assert_eq!(answer.status, want, "{case}: {}", answer.text);
    }
    assert_eq!(send(app, with_bearer(post_json(&email_uri, &json!({ "email": VISITOR_EMAIL, "consent": true })), "wrong")).await.status, StatusCode::UNAUTHORIZED);

    // An agent answers in the morning.
    let cookie = sign_in(app).await;
    let reply = with_cookie(post_json(&format!("/api/agent/conversations/{id}/messages"), &json!({ "text": "Your return label is on its way." })), &cookie);
    assert_eq!(send(app, reply).await.status, StatusCode::CREATED);

    let raw = next_mail(mails).await;
    let mail = mail_parser::MessageParser::default().parse(raw.as_bytes()).expect("the email parses");
    assert_eq!(mail.to().and_then(|a| a.first()).and_then(|a| a.address()), Some(VISITOR_EMAIL));
    let subject = mail.subject().unwrap_or_default().to_owned();
    let want_subject = if locale == "es" { "Cumbre: respuesta a tu consulta" } else { "Cumbre: a reply to your question" };
    assert_eq!(subject, want_subject);
    let text = mail.body_text(0).unwrap().into_owned();
    assert!(text.contains("Your return label is on its way."), "{text}");
    let link = text.split_whitespace().find(|w| w.starts_with("https://shop.example/help?sv_resume=")).expect("a resume link").to_owned();
    let resume = link.split_once("sv_resume=").unwrap().1.to_owned();

    // The link reopens the conversation (a new token, the reply in it); a tampered one does not.
    let reopened = send(app, post_json("/api/escalations/resume", &json!({ "resume": resume }))).await;
    assert_eq!((reopened.status, reopened.json["id"].as_str()), (StatusCode::OK, Some(id.as_str())), "{}", reopened.text);
    let new_token = reopened.json["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    let messages_uri = format!("/api/escalations/{id}/messages");
    let read = send(app, with_bearer(get(&messages_uri), &new_token)).await;
    assert_eq!(read.json["messages"].as_array().unwrap().last().unwrap()["text"], "Your return label is on its way.");
    let mut tampered = resume.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    assert_eq!(send(app, post_json("/api/escalations/resume", &json!({ "resume": tampered }))).await.status, StatusCode::UNAUTHORIZED);

    // The visitor answers the email.
    let message_id = mail.message_id().expect("a Message-ID").to_owned();
    let answer = |from: &str, mid: &str| {
        format!(
            "From: Ana <{from}>\r\nTo: support@cumbre.example\r\nSubject: Re: {subject}\r\nMessage-ID: <{mid}@visitor.example>\r\n\
             In-Reply-To: <{message_id}>\r\nReferences: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Got it, thank you!\r\n\r\nOn Fri, 4 Dec 2026 at 09:00, Cumbre <support@cumbre.example> wrote:\r\n> Your return label is on its way.\r\n"
        )
    };
    let inbound = |secret: &str, body: String| raw_post("/api/mail/inbound", body, &[("x-sottovoce-mail-secret", secret), ("content-type", "message/rfc822")]);
    assert_eq!(send(app, inbound("wrong", answer(VISITOR_EMAIL, "a1"))).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(app, inbound(INBOUND_SECRET, answer("mallory@evil.example", "a0"))).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stored = send(app, inbound(INBOUND_SECRET, answer(VISITOR_EMAIL, "a1"))).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    assert_eq!(send(app, inbound(INBOUND_SECRET, answer(VISITOR_EMAIL, "a1"))).await.status, StatusCode::OK, "a relay's retry is stored once");
    let read = send(app, with_bearer(get(&messages_uri), &token)).await;
    let last = read.json["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["author"].as_str(), last["text"].as_str()), (Some("visitor"), Some("Got it, thank you!")));

    // A transcript on request, card numbers redacted.
    let card = with_bearer(post_json(&messages_uri, &json!({ "text": "my card is 4111 1111 1111 1111" })), &token);
    assert_eq!(send(app, card).await.status, StatusCode::CREATED);
    let sent = send(app, with_bearer(post_json(&format!("/api/escalations/{id}/transcript"), &json!({})), &token)).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text);
    let raw = next_mail(mails).await;
    let transcript = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap().body_text(0).unwrap().into_owned();
    assert!(transcript.contains("can I send this jacket back?") && transcript.contains("Got it, thank you!"), "{transcript}");
    assert!(!transcript.contains("4111 1111 1111 1111"), "{transcript}");
}

#[tokio::test]
async fn nobody_online_email_reply_link_and_emailed_answer_on_sqlite() {
    let (port, mut mails) = smtp_sink().await;
    let server = server(|c| omni_config(c, port)).await;
    night_time_escalation_by_email(&server.app, &mut mails, "es").await;
}

#[tokio::test]
async fn nobody_online_email_reply_link_and_emailed_answer_on_postgresql() {
    let Some(url) = fresh_pg_database("omni_email").await else { return };
    sottovoce_server::create_agent(&url, AGENT_EMAIL, AGENT_PASSWORD).await.unwrap();
    let (port, mut mails) = smtp_sink().await;
    let mut config = Config::new(url);
    omni_config(&mut config, port);
    let app = sottovoce_server::router(AppState::new(config).await.unwrap());
    night_time_escalation_by_email(&app, &mut mails, "en").await;
}

#[tokio::test]
async fn an_online_agent_makes_the_widget_expect_an_answer_now() {
    let (port, _mails) = smtp_sink().await;
    let server = server(|c| omni_config(c, port)).await;
    let cookie = sign_in(&server.app).await;
    for (status, want_online) in [("online", 1), ("away", 0), ("online", 1)] {
        let set = send(&server.app, with_cookie(post_json("/api/agent/presence", &json!({ "status": status })), &cookie)).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        let a = send(&server.app, get("/api/availability")).await.json;
        assert_eq!(a["agents_online"], want_online, "{status}: {a}");
    }
    let a = send(&server.app, get("/api/availability")).await.json;
    let now = sottovoce_server::store::now_ms();
    assert!((a["expected_reply_ms"].as_i64().unwrap() - now).abs() < 5_000, "{a}");
    assert_eq!(send(&server.app, post_json("/api/agent/presence", &json!({ "status": "online" }))).await.status, StatusCode::UNAUTHORIZED);
    let bad = send(&server.app, with_cookie(post_json("/api/agent/presence", &json!({ "status": "busy" })), &cookie)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A customer the site identified sees their open escalation and the agent's replies on a
/// second device; a hash that does not vouch for the id gets nothing.
#[tokio::test]
async fn an_identified_customer_finds_the_escalation_on_another_device() {
    const SECRET: &str = "identity-secret";
    let server = server(|c| c.identity_secret = Some(SECRET.into())).await;
    let hash = sottovoce_server::identity::user_hash(SECRET, "c-42");
    let mut body = escalation(None);
    body["customer"] = json!({ "id": "c-42", "user_hash": hash });
    let (id, _token) = escalate(&server.app, &body).await;
    let cookie = sign_in(&server.app).await;
    let reply = with_cookie(post_json(&format!("/api/agent/conversations/{id}/messages"), &json!({ "text": "Hi Ana, checking now." })), &cookie);
    assert_eq!(send(&server.app, reply).await.status, StatusCode::CREATED);

    let other = send(&server.app, post_json("/api/escalations/by-customer", &json!({ "customer_id": "c-42", "user_hash": hash }))).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
    let found = other.json["escalations"].as_array().unwrap();
    assert_eq!((found.len(), found[0]["id"].as_str()), (1, Some(id.as_str())));
    let token = found[0]["token"].as_str().unwrap();
    let read = send(&server.app, with_bearer(get(&format!("/api/escalations/{id}/messages")), token)).await;
    assert_eq!(read.json["messages"].as_array().unwrap().last().unwrap()["text"], "Hi Ana, checking now.");

    let wrong = sottovoce_server::identity::user_hash("other", "c-42");
    let denied = send(&server.app, post_json("/api/escalations/by-customer", &json!({ "customer_id": "c-42", "user_hash": wrong }))).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    let none = send(&server.app, post_json("/api/escalations/by-customer", &json!({ "customer_id": "c-43", "user_hash": sottovoce_server::identity::user_hash(SECRET, "c-43") }))).await;
    assert_eq!(none.json["escalations"], json!([]));
}

/// A stand-in for the Telegram Bot API: `POST /bot<token>/sendMessage` answers `{"ok": true}`
/// and hands the request body to the test.
async fn telegram_stand_in() -> (String, mpsc::UnboundedReceiver<(String, Value)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/{bot}/sendMessage",
        post(move |axum::extract::Path(bot): axum::extract::Path<String>, Json(body): Json<Value>| {
            let tx = tx.clone();
            async move {
                tx.send((bot, body.clone())).ok();
                Json(json!({ "ok": true, "result": { "message_id": 1, "chat": { "id": body["chat_id"] }, "text": body["text"] } }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, rx)
}

async fn next_sent<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("a message is sent within 20 s").expect("open")
}

fn store_bot(config: &mut Config) {
    config.bot_path = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/bots/store.json").into());
}

#[tokio::test]
async fn a_telegram_chat_talks_to_the_bot_hands_off_and_gets_the_agents_reply() {
    let (base, mut sent) = telegram_stand_in().await;
    let server = server(|c| {
        store_bot(c);
        c.omni.channels.telegram = Some(("123:ABC".into(), "tg-secret".into(), base));
    })
    .await;
    let update = |text: &str| json!({ "update_id": 1, "message": { "message_id": 5, "date": 1_796_414_400,
        "chat": { "id": 777, "type": "private" }, "from": { "id": 777, "is_bot": false, "first_name": "Ana", "language_code": "en" }, "text": text } });
    let hook = |secret: &str, text: &str| {
        raw_post("/api/channels/telegram", update(text).to_string(), &[("content-type", "application/json"), ("x-telegram-bot-api-secret-token", secret)])
    };
    assert_eq!(send(&server.app, hook("wrong", "hello")).await.status, StatusCode::UNAUTHORIZED);
    let bad = raw_post("/api/channels/telegram", "not json".into(), &[("x-telegram-bot-api-secret-token", "tg-secret")]);
    assert_eq!(send(&server.app, bad).await.status, StatusCode::BAD_REQUEST);

    let answer = send(&server.app, hook("tg-secret", "how long do I have to return an item?")).await;
    assert_eq!((answer.status, &answer.json["escalated"]), (StatusCode::OK, &Value::Null), "{}", answer.text);
    let (bot, body) = next_sent(&mut sent).await;
    assert_eq!((bot.as_str(), &body["chat_id"]), ("bot123:ABC", &json!(777)));
    assert!(body["text"].as_str().unwrap().contains("30"), "the return-policy answer: {body}");
    while sent.try_recv().is_ok() {}

    let handoff = send(&server.app, hook("tg-secret", "I want to talk to a human")).await;
    let id = handoff.json["escalated"].as_str().unwrap_or_else(|| panic!("handed off: {}", handoff.text)).to_owned();
    let cookie = sign_in(&server.app).await;
    let list = send(&server.app, with_cookie(get("/api/agent/conversations"), &cookie)).await;
    let row = list.json["conversations"].as_array().unwrap().iter().find(|c| c["id"] == id.as_str()).cloned().unwrap();
    assert_eq!(row["channel"], "telegram", "{row}");
    while sent.try_recv().is_ok() {}

    // The next chat message goes to the agent, and the agent's reply goes to the chat.
    assert_eq!(send(&server.app, hook("tg-secret", "it is order CU-318274")).await.json["escalated"], id.as_str());
    let opened = send(&server.app, with_cookie(get(&format!("/api/agent/conversations/{id}")), &cookie)).await;
    assert!(opened.text.contains("it is order CU-318274"), "{}", opened.text);
    let reply = with_cookie(post_json(&format!("/api/agent/conversations/{id}/messages"), &json!({ "text": "Found it, refund today." })), &cookie);
    assert_eq!(send(&server.app, reply).await.status, StatusCode::CREATED);
    let (_, body) = next_sent(&mut sent).await;
    assert_eq!((&body["chat_id"], body["text"].as_str()), (&json!(777), Some("Found it, refund today.")));
}

#[tokio::test]
async fn the_generic_json_channel_signs_both_ways() {
    let (tx, mut sent) = mpsc::unbounded_channel::<(String, Value)>();
    let receiver = Router::new().route(
        "/replies",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let signature = headers.get("x-sottovoce-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                tx.send((signature, serde_json::from_str(&body).unwrap())).ok();
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let reply_url = format!("http://{}/replies", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let server = server(|c| {
        store_bot(c);
        c.omni.channels.json = Some(("json-secret".into(), reply_url));
    })
    .await;
    let body = json!({ "chat_id": "u-1", "text": "hola, ¿cuánto tarda el envío?", "locale": "es" }).to_string();
    let signature = sottovoce_server::webhook::sign(b"json-secret", body.as_bytes());
    let unsigned = raw_post("/api/channels/json", body.clone(), &[("x-sottovoce-signature", "sha256=00")]);
    assert_eq!(send(&server.app, unsigned).await.status, StatusCode::UNAUTHORIZED);
    let answer = send(&server.app, raw_post("/api/channels/json", body, &[("x-sottovoce-signature", &signature)])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let (signature, reply) = next_sent(&mut sent).await;
    assert_eq!(signature, sottovoce_server::webhook::sign(b"json-secret", reply.to_string().as_bytes()));
    assert_eq!(reply["chat_id"], "u-1");
    assert!(!reply["text"].as_str().unwrap().is_empty());
    assert_eq!(send(&server.app, raw_post("/api/channels/nope", "{}".into(), &[])).await.status, StatusCode::NOT_FOUND);
}
