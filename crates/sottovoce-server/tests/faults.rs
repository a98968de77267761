//! Faults, tried on real server processes: PostgreSQL restarted in the middle of a load run,
//! SQLite's disk filling up, SIGKILL while webhooks are being delivered. Each test prints what
//! it measured; the figures are quoted in `docs/threat-model.md` ("Faults").
//!
//! What every one of them checks: a request the database could not take is answered 503 with
//! `Retry-After` and a JSON error (never a 500, a dropped connection or a hang), everything
//! answered 2xx is in the database afterwards, and the server recovers by itself.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::*;

/// The longest any request may take, outage or not: the pools' acquire timeout (3 s) plus
/// slack. A request still unanswered after this is a hang, counted as a failure.
const BOUND: Duration = Duration::from_secs(8);

/// Prints past the test harness's capture, so the figures show in `make test`'s output.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// One answer of the load loop: when it came (since the start), and its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Unavailable,
    Other,
}

/// What the load loop saw.
#[derive(Default)]
struct Seen {
    /// (seconds since start, outcome, status or 0 for a transport error).
    answers: Vec<(f64, Outcome, u16)>,
    /// The slowest answer, in seconds.
    slowest: f64,
    /// Escalations answered 2xx: id → token.
    escalations: BTreeMap<String, String>,
    /// Messages answered 2xx: (conversation id, client_id).
    messages: Vec<(String, String)>,
    /// The first few answers that were neither 2xx nor a proper 503, for the failure message.
    odd: Vec<String>,
}

impl Seen {
    fn count(&self, outcome: Outcome) -> usize {
        self.answers.iter().filter(|a| a.1 == outcome).count()
    }
}

/// Classifies an answer; a 503 counts as one only with `Retry-After` and the JSON error
/// `unavailable` (anything less is `Other`).
async fn classify(response: Result<reqwest::Response, reqwest::Error>) -> (Outcome, u16, Value, String) {
    match response {
        Err(e) => (Outcome::Other, 0, Value::Null, format!("transport error: {e}")),
        Ok(r) => {
            let status = r.status().as_u16();
            let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
            let text = r.text().await.unwrap_or_default();
            let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let outcome = match status {
                200..=299 => Outcome::Ok,
                503 if retry_after.is_some_and(|s| s > 0) && json["error"]["code"] == "unavailable" => Outcome::Unavailable,
                _ => Outcome::Other,
            };
            (outcome, status, json, format!("{status} retry-after={retry_after:?} {text}"))
        }
    }
}

/// `workers` clients that each create an escalation (idempotency key) and post two messages
/// to it (client ids), over and over, until `stop`; every answer is recorded in `seen`.
fn start_load(base: &str, workers: usize, stop: Arc<AtomicBool>, seen: Arc<Mutex<Seen>>, start: Instant, text_len: usize) -> Vec<tokio::task::JoinHandle<()>> {
    let http = reqwest::Client::builder().timeout(BOUND).build().unwrap();
    (0..workers)
        .map(|worker| {
            let (http, base, stop, seen) = (http.clone(), base.to_owned(), stop.clone(), seen.clone());
            tokio::spawn(async move {
                let record = |seen: &Mutex<Seen>, sent: Instant, outcome, status, detail: String| {
                    let mut seen = seen.lock().unwrap();
                    seen.answers.push((start.elapsed().as_secs_f64(), outcome, status));
                    seen.slowest = seen.slowest.max(sent.elapsed().as_secs_f64());
                    if outcome == Outcome::Other && seen.odd.len() < 5 {
                        seen.odd.push(detail);
                    }
                };
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = escalation(Some(&format!("faults-{worker}-{n}-0123456789")));
                    let sent = Instant::now();
                    let (outcome, status, json, detail) = classify(http.post(format!("{base}/api/escalations")).json(&body).send().await).await;
                    record(&seen, sent, outcome, status, detail);
                    if outcome != Outcome::Ok {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    let (id, token) = (json["id"].as_str().unwrap().to_owned(), json["token"].as_str().unwrap().to_owned());
                    seen.lock().unwrap().escalations.insert(id.clone(), token.clone());
                    for m in 0..2 {
                        let client_id = format!("m-{worker}-{n}-{m}");
                        let text = format!("{client_id} {}", "x".repeat(text_len));
                        let request = http
                            .post(format!("{base}/api/escalations/{id}/messages"))
                            .bearer_auth(&token)
                            .json(&json!({ "text": text, "client_id": client_id }));
                        let sent = Instant::now();
                        let (outcome, status, _, detail) = classify(request.send().await).await;
                        record(&seen, sent, outcome, status, detail);
                        if outcome == Outcome::Ok {
                            seen.lock().unwrap().messages.push((id.clone(), client_id));
                        } else {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            })
        })
        .collect()
}

/// Waits (at most 15 s) for the first 2xx answered after `since` (seconds from `start`): the
/// recovery. Then lets the load run `tail_ms` more, stops it and returns that moment, if any.
async fn recover_then_stop(
    seen: &Mutex<Seen>,
    start: Instant,
    since: f64,
    workers: Vec<tokio::task::JoinHandle<()>>,
    stop: &AtomicBool,
    tail_ms: u64,
) -> Option<f64> {
    let mut recovered_at = None;
    while recovered_at.is_none() && start.elapsed().as_secs_f64() < since + 15.0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        recovered_at = seen.lock().unwrap().answers.iter().filter(|a| a.0 > since && a.1 == Outcome::Ok).map(|a| a.0).reduce(f64::min);
    }
    tokio::time::sleep(Duration::from_millis(tail_ms)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    recovered_at
}

/// Reads every escalation and message answered 2xx back through `base`; returns what is
/// missing (escalations without their 3-message transcript, messages not found).
async fn missing_after(base: &str, seen: &Seen) -> Vec<String> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut wanted: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, client_id) in &seen.messages {
        wanted.entry(id.as_str()).or_default().push(client_id.as_str());
    }
    let ids: Vec<(&String, &String)> = seen.escalations.iter().collect();
    let mut missing = Vec::new();
    for chunk in ids.chunks(32) {
        let checks = chunk.iter().map(|(id, token)| {
            let request = http.get(format!("{base}/api/escalations/{id}/messages")).bearer_auth(token).send();
            let wanted = wanted.get(id.as_str()).cloned().unwrap_or_default();
            async move {
                let messages: Vec<Value> = match request.await {
                    Ok(r) if r.status().is_success() => r.json::<Value>().await.ok().and_then(|v| v["messages"].as_array().cloned()).unwrap_or_default(),
                    _ => return vec![format!("{id}: unreadable")],
                };
                let texts: Vec<&str> = messages.iter().filter_map(|m| m["text"].as_str()).collect();
                let mut lost = Vec::new();
                if messages.len() < 3 {
                    lost.push(format!("{id}: transcript of {} messages", messages.len()));
                }
                for client_id in wanted {
                    if !texts.iter().any(|t| t.starts_with(&format!("{client_id} "))) {
                        lost.push(format!("{id}: message {client_id}"));
                    }
                }
                lost
            }
        });
        missing.extend(futures_util::future::join_all(checks).await.into_iter().flatten());
    }
    missing
}

/// A private PostgreSQL cluster (scripts/postgres.sh in a temporary directory), so restarting
/// it disturbs no other test; stopped when dropped.
struct PrivateCluster {
    dir: tempfile::TempDir,
    port: String,
    url: String,
}

impl PrivateCluster {
    fn script(dir: &std::path::Path, port: &str, args: &[&str]) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .args(args)
            .env("SOTTOVOCE_PG_DIR", dir)
            .env("SOTTOVOCE_PG_PORT", port)
            .stderr(std::process::Stdio::null())
            .output()
            .expect("bash runs scripts/postgres.sh");
        assert!(out.status.success(), "scripts/postgres.sh {args:?} failed");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn start() -> PrivateCluster {
        let dir = tempfile::tempdir().unwrap();
        // As root the script runs PostgreSQL as `postgres`, which must reach the data directory.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // Far from the shared cluster's 54329 and up.
        let url = PrivateCluster::script(&dir.path().join("pg"), "55731", &[]);
        let port = url.rsplit_once(':').unwrap().1.split('/').next().unwrap().to_owned();
        PrivateCluster { dir, port, url }
    }

    /// `pg_ctl stop -m fast`: open sessions are ended, in-flight transactions rolled back.
    fn stop(&self) {
        PrivateCluster::script(&self.dir.path().join("pg"), &self.port, &["stop"]);
    }

    /// Starts it again on the same port and waits until it accepts connections.
    fn restart(&self) {
        let url = PrivateCluster::script(&self.dir.path().join("pg"), &self.port, &[]);
        assert_eq!(url, self.url, "the cluster came back on another port");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_restarted_mid_load_answers_503_then_recovers_and_loses_nothing() {
    // The variable says PostgreSQL is there to test with; the restart happens on a private
    // cluster of the same installation, so the shared one is never interrupted.
    if std::env::var("SOTTOVOCE_TEST_PG_URL").is_err() {
        report("skipped postgresql_restarted_mid_load: SOTTOVOCE_TEST_PG_URL is not set (make test sets it; see scripts/postgres.sh)");
        return;
    }
    let cluster = tokio::task::spawn_blocking(PrivateCluster::start).await.unwrap();
    let mut server = ServerProcess::start(&cluster.url, &["--no-rate-limit"]);
    let start = Instant::now();
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Seen::default())));
    let workers = start_load(&server.base, 8, stop.clone(), seen.clone(), start, 40);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cluster = Arc::new(cluster);
    let c = cluster.clone();
    let down_at = start.elapsed().as_secs_f64();
    tokio::task::spawn_blocking(move || c.stop()).await.unwrap();
    // Longer than the pools' acquire timeout, so requests also time out waiting.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.restart()).await.unwrap();
    let up_at = start.elapsed().as_secs_f64();

    let recovered_at = recover_then_stop(&seen, start, up_at, workers, &stop, 1500).await;
    assert!(server.child.try_wait().unwrap().is_none(), "the server process died during the outage");

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let (ok, unavailable, other) = (seen.count(Outcome::Ok), seen.count(Outcome::Unavailable), seen.count(Outcome::Other));
    let during = seen.answers.iter().filter(|a| a.0 >= down_at && a.0 <= up_at).count();
    let recovery = recovered_at.map(|t| t - up_at);
    let missing = missing_after(&server.base, &seen).await;
    server.kill();
    report(&format!(
        "faults/postgres-restart: {} answers ({ok} 2xx, {unavailable} 503 with Retry-After, {other} other); \
         {during} answered while PostgreSQL was down ({:.1} s, stop -m fast then start); \
         slowest answer {:.2} s; first 2xx {:.2} s after it accepted connections again; {} escalations and {} messages answered 2xx, {} missing afterwards",
        seen.answers.len(),
        up_at - down_at,
        seen.slowest,
        recovery.unwrap_or(f64::NAN),
        seen.escalations.len(),
        seen.messages.len(),
        missing.len()
    ));
    assert_eq!(other, 0, "answers neither 2xx nor a proper 503: {:?}", seen.odd);
    assert!(unavailable > 0, "the outage was never seen: the test did not test anything");
    let recovery = recovery.expect("no request succeeded after PostgreSQL came back: the pool did not reconnect");
    assert!(recovery < 10.0, "recovery took {recovery:.1} s");
    assert!(seen.answers.iter().any(|a| a.0 > up_at + 1.0 && a.1 == Outcome::Ok));
    assert!(missing.is_empty(), "answered 2xx, then lost: {missing:?}");
}

/// A small tmpfs mounted for one test (needs root, or CAP_SYS_ADMIN); unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `megabytes`; `Err` says why it could not.
    fn mount(megabytes: u32) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount -t tmpfs failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(SmallDisk { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes `filler` until the disk refuses (ENOSPC); returns the bytes written.
    fn fill(&self) -> u64 {
        let mut file = std::fs::File::create(self.path().join("filler")).unwrap();
        let chunk = vec![0x5a_u8; 64 * 1024];
        let mut written = 0;
        loop {
            match file.write(&chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n as u64,
            }
        }
        let _ = file.sync_all();
        // Top off with small writes, so not even a page is left.
        while let Ok(n @ 1..) = file.write(&chunk[..512]) {
            written += n as u64;
        }
        written
    }

    fn free(&self) {
        std::fs::remove_file(self.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_on_a_full_disk_answers_503_keeps_reading_and_recovers_when_space_is_freed() {
    let disk = match SmallDisk::mount(64) {
        Ok(disk) => disk,
        Err(why) => {
            report(&format!("skipped sqlite_on_a_full_disk: {why} (the test mounts a 64 MB tmpfs, which needs root)"));
            return;
        }
    };
    let db = format!("sqlite://{}?mode=rwc", disk.path().join("full.db").display());
    let mut server = ServerProcess::start(&db, &["--no-rate-limit"]);
    let base = server.base.clone();
    let http = reqwest::Client::builder().timeout(BOUND).build().unwrap();
    let start = Instant::now();
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Seen::default())));
    let workers = start_load(&base, 2, stop.clone(), seen.clone(), start, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (first_id, first_token) = seen.lock().unwrap().escalations.iter().next().map(|(i, t)| (i.clone(), t.clone())).expect("writes before the disk filled");

    // Fill the disk under the running load.
    let full_at = start.elapsed().as_secs_f64();
    let filler = disk.fill();
    // Until writes have been refused a while (SQLite reuses its WAL's pages after a checkpoint,
    // so a few still fit), read as a visitor and check the health endpoint.
    let (mut reads, mut reads_ok, mut refusal) = (0, 0, None);
    while start.elapsed().as_secs_f64() < full_at + 6.0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        reads += 2;
        let read = http.get(format!("{base}/api/escalations/{first_id}/messages")).bearer_auth(&first_token).send().await;
        reads_ok += usize::from(read.is_ok_and(|r| r.status().is_success()));
        reads_ok += usize::from(http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()));
        if refusal.is_none() {
            let (outcome, status, json, detail) = classify(http.post(format!("{base}/api/escalations")).json(&escalation(None)).send().await).await;
            if outcome == Outcome::Unavailable {
                refusal = Some((status, json["error"]["message"].as_str().unwrap_or_default().to_owned(), detail));
            }
        }
        let refused = seen.lock().unwrap().answers.iter().filter(|a| a.0 > full_at && a.1 == Outcome::Unavailable).count();
        if refused >= 20 && refusal.is_some() && start.elapsed().as_secs_f64() > full_at + 2.0 {
            break;
        }
    }

    let freed_at = start.elapsed().as_secs_f64();
    disk.free();
    let recovered_at = recover_then_stop(&seen, start, freed_at, workers, &stop, 1000).await;
    assert!(server.child.try_wait().unwrap().is_none(), "the server process died on the full disk");

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let window = |from: f64, to: f64, outcome: Outcome| seen.answers.iter().filter(|a| a.0 > from && a.0 <= to && a.1 == outcome).count();
    let (ok_full, refused_full) = (window(full_at, freed_at, Outcome::Ok), window(full_at, freed_at, Outcome::Unavailable));
    let after_ok = window(freed_at, f64::MAX, Outcome::Ok);
    let after_refused = recovered_at.map_or(0, |r| window(r, f64::MAX, Outcome::Unavailable));
    let missing = missing_after(&base, &seen).await;
    let recovery = recovered_at.map(|t| t - freed_at);
    server.kill();
    // And in the file itself, read by a fresh process's store after SIGKILL.
    let store = sottovoce_server::store::Store::connect(&db).await.unwrap();
    let mut not_in_file = Vec::new();
    for id in seen.escalations.keys() {
        let stored = store.conversation(id).await.unwrap();
        let messages = seen.messages.iter().filter(|(c, _)| c == id).count() as i64;
        if stored.is_none_or(|c| c.message_count < 3 + messages) {
            not_in_file.push(id.clone());
        }
    }
    store.close().await;
    report(&format!(
        "faults/sqlite-disk-full: {} answers ({} 2xx, {} 503 with Retry-After, {} other); filled a 64 MB tmpfs ({} MB of filler) \
         under load: {refused_full} writes refused 503 and {ok_full} still stored (WAL pages reused) in {:.1} s; \
         {reads_ok}/{reads} reads and health checks answered 200 meanwhile; first write stored {:.2} s after the filler was deleted, \
         {after_ok} stored after, {after_refused} refused after; {} escalations and {} messages answered 2xx, {} missing afterwards ({} not in the file after SIGKILL)",
        seen.answers.len(),
        seen.count(Outcome::Ok),
        seen.count(Outcome::Unavailable),
        seen.count(Outcome::Other),
        filler / 1_000_000,
        freed_at - full_at,
        recovery.unwrap_or(f64::NAN),
        seen.escalations.len(),
        seen.messages.len(),
        missing.len(),
        not_in_file.len()
    ));
    assert_eq!(seen.count(Outcome::Other), 0, "answers neither 2xx nor a proper 503: {:?}", seen.odd);
    let (status, message, detail) = refusal.expect("no write was refused on the full disk: the test did not test anything");
    assert_eq!(status, 503);
    assert!(message.contains("disk is full"), "the 503 does not say why: {detail}");
    assert!(detail.contains("retry-after=Some(30)"), "{detail}");
    assert!(refused_full >= 20, "only {refused_full} writes refused");
    assert_eq!(reads_ok, reads, "reads failed while the disk was full");
    let recovery = recovery.expect("no write succeeded after space was freed, without a restart");
    assert!(recovery < 5.0, "recovery took {recovery:.1} s");
    assert!(after_ok >= 10 && after_refused == 0, "{after_ok} stored, {after_refused} refused after recovery");
    assert!(missing.is_empty(), "answered 2xx, then lost: {missing:?}");
    assert!(not_in_file.is_empty(), "answered 2xx, not in the file: {not_in_file:?}");
}

const WEBHOOK_SECRET: &str = "faults-webhook-secret";

/// The receiving end of the webhooks: refuses the first `refuse` attempts (503), then answers
/// each after `delay`; checks every signature and counts acknowledgements per delivery id.
#[derive(Default)]
struct Receiver {
    refuse: usize,
    delay: Duration,
    attempts: std::sync::atomic::AtomicUsize,
    bad_signatures: std::sync::atomic::AtomicUsize,
    /// delivery id → (what the event reports: `escalation.created c_…` or `message.created <id>`, times acknowledged).
    acked: Mutex<HashMap<String, (String, usize)>>,
}

impl Receiver {
    /// Serves `POST /hook` on an ephemeral port; returns its URL.
    async fn serve(self: &Arc<Self>) -> String {
        async fn hook(
            axum::extract::State(r): axum::extract::State<Arc<Receiver>>,
            headers: axum::http::HeaderMap,
            body: axum::body::Bytes,
        ) -> axum::http::StatusCode {
            use axum::http::StatusCode;
            let n = r.attempts.fetch_add(1, Ordering::Relaxed);
            let signature = headers.get("x-sottovoce-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
            if signature != sottovoce_server::webhook::sign(WEBHOOK_SECRET.as_bytes(), &body) {
                r.bad_signatures.fetch_add(1, Ordering::Relaxed);
                return StatusCode::UNAUTHORIZED;
            }
            if n < r.refuse {
                return StatusCode::SERVICE_UNAVAILABLE;
            }
            tokio::time::sleep(r.delay).await;
            let event: Value = serde_json::from_slice(&body).unwrap_or_default();
            let delivery = headers.get("x-sottovoce-delivery").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            assert_eq!(event["delivery_id"], delivery.as_str(), "the header and the body name the same delivery");
            let what = match event["event"].as_str().unwrap_or_default() {
                "escalation.created" => format!("escalation.created {}", event["data"]["conversation"]["id"].as_str().unwrap_or_default()),
                other => format!("{other} {}", event["data"]["message"]["id"]),
            };
            r.acked.lock().unwrap().entry(delivery).or_insert((what, 0)).1 += 1;
            StatusCode::OK
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn acknowledged(&self) -> usize {
        self.acked.lock().unwrap().len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_webhook_delivery_loses_no_event() {
    let receiver = Arc::new(Receiver { refuse: 30, delay: Duration::from_millis(50), ..Receiver::default() });
    let hook = receiver.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("hooks.db").display());
    let args = ["--no-rate-limit", "--webhook-url", &hook, "--webhook-secret", WEBHOOK_SECRET, "--webhook-timeout", "1"];
    let mut server = ServerProcess::start(&db, &args);
    let start = Instant::now();
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Seen::default())));
    let workers = start_load(&server.base, 4, stop.clone(), seen.clone(), start, 40);

    // Kill while events are being created, refused, retried and delivered.
    while receiver.acknowledged() < 50 && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    let killed_at = Instant::now();
    let (acked_at_kill, attempts_at_kill) = (receiver.acknowledged(), receiver.attempts.load(Ordering::Relaxed));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let store = sottovoce_server::store::Store::connect(&db).await.unwrap();
    let now = sottovoce_server::store::now_ms();
    let queued_at_kill = store.due_webhooks(i64::MAX, 1_000_000).await.unwrap().len();
    let waiting_at_kill = queued_at_kill - store.due_webhooks(now, 1_000_000).await.unwrap().len();

    // What the database holds is what must be reported: every escalation, every visitor message
    // posted after it (the load's, whose text starts with their client id `m-`).
    let mut expected = std::collections::BTreeSet::new();
    for c in store.list_conversations(sottovoce::protocol::ConversationStatus::Open, 1_000_000).await.unwrap() {
        expected.insert(format!("escalation.created {}", c.id));
        for m in store.messages_after(&c.id, 0).await.unwrap() {
            if m.text.starts_with("m-") {
                expected.insert(format!("message.created {}", m.id));
            }
        }
    }
    store.close().await;

    // A new process on the same database delivers the rest.
    let restarted = ServerProcess::start(&db, &args);
    let reported = || receiver.acked.lock().unwrap().values().map(|(what, _)| what.clone()).collect::<std::collections::BTreeSet<_>>();
    while !expected.is_subset(&reported()) && killed_at.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered_after = killed_at.elapsed().as_secs_f64();
    // Let anything sent twice arrive before counting duplicates.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(restarted);

    let acked = receiver.acked.lock().unwrap().clone();
    let reported_now = reported();
    let missing: Vec<&String> = expected.difference(&reported_now).collect();
    let duplicates: usize = acked.values().map(|(_, times)| times - 1).sum();
    let mut ids_per_event: HashMap<&str, usize> = HashMap::new();
    for (what, _) in acked.values() {
        *ids_per_event.entry(what.as_str()).or_default() += 1;
    }
    let undroppable = ids_per_event.values().filter(|&&n| n > 1).count();
    let answered = { let s = seen.lock().unwrap(); s.escalations.len() + s.messages.len() };
    report(&format!(
        "faults/webhook-sigkill: SIGKILL after {acked_at_kill} deliveries acknowledged ({attempts_at_kill} attempts, the first 30 refused 503); \
         {queued_at_kill} left in the outbox ({waiting_at_kill} claimed or waiting for a retry); {} events in the database ({answered} answered 2xx), \
         {} acknowledged by the receiver, every one {delivered_after:.1} s after the kill; {duplicates} sent again with the same X-Sottovoce-Delivery \
         (dropped by it), {undroppable} under two ids, {} missing, {} bad signatures",
        expected.len(),
        acked.len(),
        missing.len(),
        receiver.bad_signatures.load(Ordering::Relaxed),
    ));
    assert!(waiting_at_kill > 0, "nothing was claimed or waiting at the kill: the test did not test anything");
    assert!(missing.is_empty(), "events stored but never delivered: {missing:?}");
    assert_eq!(undroppable, 0, "an event was sent under two delivery ids: the receiver cannot drop the duplicate");
    assert_eq!(receiver.bad_signatures.load(Ordering::Relaxed), 0);
    assert!(expected.len() >= answered, "fewer events in the database than requests answered 2xx");
}
