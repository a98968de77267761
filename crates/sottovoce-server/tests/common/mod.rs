//! Helpers shared by the server's integration tests: a server on a temporary SQLite file,
//! requests through `oneshot`, JSON bodies.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use sottovoce_server::{AppState, Config};
use tower::ServiceExt;

/// A test server and the temporary directory its database lives in.
pub struct TestServer {
    pub app: Router,
    pub state: AppState,
    pub url: String,
    _dir: tempfile::TempDir,
}

pub const AGENT_EMAIL: &str = "agent@shop.example";
pub const AGENT_PASSWORD: &str = "correct horse battery";

/// A server with the fixture bot, one agent, and `tweak` applied to its configuration.
pub async fn server(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    sottovoce_server::create_agent(&url, AGENT_EMAIL, AGENT_PASSWORD).await.expect("agent");
    let mut config = Config::new(url.clone());
    config.bot_path = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bot.json").into());
    config.allowed_origins = vec!["https://shop.example".into()];
    tweak(&mut config);
    let state = AppState::new(config).await.expect("server starts");
    TestServer { app: sottovoce_server::router(state.clone()), state, url, _dir: dir }
}

/// A response's status, headers and body parsed as JSON (`Null` when empty or not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub json: Value,
    pub text: String,
}

pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Answer { status, headers, json: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

pub fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri).header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
}

pub fn with_bearer(mut request: Request<Body>, token: &str) -> Request<Body> {
    request.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    request
}

pub fn with_cookie(mut request: Request<Body>, cookie: &str) -> Request<Body> {
    request.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
    request
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// A typical escalation: a visitor asking about returns, then asking for a person.
pub fn escalation(key: Option<&str>) -> Value {
    let mut body = serde_json::json!({
        "locale": "en",
        "bot_id": "test-shop",
        "page_url": "https://shop.example/jackets",
        "profile": { "name": "Ana", "visits": 3 },
        "transcript": [
            { "author": "visitor", "text": "can I send this jacket back?", "at_ms": 1_700_000_000_000i64,
              "intent": "returns", "confidence": 0.91, "sentiment": 0.1 },
            { "author": "bot", "text": "You can return unworn items within 30 days." },
            { "author": "visitor", "text": "this is useless, I want a person", "intent": "human",
              "confidence": 0.88, "sentiment": -0.7 }
        ]
    });
    if let Some(key) = key {
        body["idempotency_key"] = key.into();
    }
    body
}

/// Creates an escalation; returns (id, token).
pub async fn escalate(app: &Router, body: &Value) -> (String, String) {
    let answer = send(app, post_json("/api/escalations", body)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    (answer.json["id"].as_str().unwrap().to_owned(), answer.json["token"].as_str().unwrap().to_owned())
}

/// Signs the fixture agent in; returns the `Cookie` header value.
pub async fn sign_in(app: &Router) -> String {
    let answer = send(app, post_json("/api/agent/login", &serde_json::json!({ "email": AGENT_EMAIL, "password": AGENT_PASSWORD }))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let set_cookie = answer.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    set_cookie.split(';').next().unwrap().to_owned()
}

/// A `sottovoce-server` process; killed with SIGKILL when dropped.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts the server binary on an ephemeral port with `--db <db>` and `extra` arguments,
    /// and waits for its `listening on` line.
    pub fn start(db: &str, extra: &[&str]) -> ServerProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sottovoce-server"))
            .args(["--addr", "127.0.0.1:0", "--db", db])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("server binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("server prints its address");
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned();
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        ServerProcess { child, base }
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh, empty PostgreSQL database on the server at `SOTTOVOCE_TEST_PG_URL`, or `None`
/// (after saying so) when the variable is unset.
pub async fn fresh_pg_database(test: &str) -> Option<String> {
    use sqlx::Connection;
    let Ok(url) = std::env::var("SOTTOVOCE_TEST_PG_URL") else {
        // Straight to stderr, past the test harness's capture, so the skip is visible.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipped {test}: SOTTOVOCE_TEST_PG_URL is not set (make test sets it; see scripts/postgres.sh)");
        return None;
    };
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("SOTTOVOCE_TEST_PG_URL reachable");
    let name = format!("sv_test_{}", sottovoce_server::api::random_hex(6));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
    let (base, _) = url.rsplit_once('/').expect("URL with a database name");
    Some(format!("{base}/{name}"))
}

/// A webhook receiver on an ephemeral port: its URL and the deliveries it accepted (headers,
/// raw body). With `fail_first` it refuses the first delivery (500) to exercise the retry.
pub async fn webhook_receiver(fail_first: bool) -> (String, Arc<Mutex<Vec<(HeaderMap, Bytes)>>>) {
    let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let attempts = Arc::new(Mutex::new(0u32));
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let (store, attempts) = (store.clone(), attempts.clone());
            async move {
                let mut n = attempts.lock().unwrap();
                *n += 1;
                if fail_first && *n == 1 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                store.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// Polls `done` every 100 ms for up to 10 s; panics naming `what` after that.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}
