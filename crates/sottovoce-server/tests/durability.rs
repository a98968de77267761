//! Durability: SIGKILL the server in the middle of a load run, restart it on the same SQLite
//! file, and find every escalation that had been answered 2xx, complete.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_escalation_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("durable.db").display());
    let mut server = ServerProcess::start(&db, &["--no-rate-limit"]);
    let endpoint = format!("{}/api/escalations", server.base);

    let answered: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut workers = Vec::new();
    for worker in 0..16 {
        let (http, endpoint, answered, stop) = (http.clone(), endpoint.clone(), answered.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = escalation(Some(&format!("durability-{worker}-{n}-0123456789")));
                let Ok(response) = http.post(&endpoint).json(&body).send().await else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                if response.status().is_success() {
                    if let Ok(value) = response.json::<Value>().await {
                        let pair = (value["id"].as_str().unwrap().to_owned(), value["token"].as_str().unwrap().to_owned());
                        answered.lock().unwrap().push(pair);
                    }
                }
            }
        }));
    }

    // Let the load build up, then kill the server while requests are in flight.
    for _ in 0..200 {
        if answered.lock().unwrap().len() >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.kill();
    let answered_at_kill = answered.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    // (A response read just before the kill may be recorded just after it: `answered` is the
    // full list, taken once every client stopped.)
    assert!(answered_at_kill >= 100, "the load run was too small to mean anything: {answered_at_kill}");

    // Restart on the same file and read every answered escalation back with its own token.
    let restarted = ServerProcess::start(&db, &["--no-rate-limit"]);
    let mut missing = Vec::new();
    for chunk in answered.chunks(32) {
        let checks = chunk.iter().map(|(id, token)| {
            let request = http.get(format!("{}/api/escalations/{id}/messages", restarted.base)).bearer_auth(token).send();
            async move {
                let complete = match request.await {
                    Ok(r) if r.status().is_success() => {
                        r.json::<Value>().await.map(|v| v["messages"].as_array().map_or(0, Vec::len) == 3).unwrap_or(false)
                    }
                    _ => false,
                };
                (id.clone(), complete)
            }
        });
        for (id, complete) in futures_util::future::join_all(checks).await {
            if !complete {
                missing.push(id);
            }
        }
    }
    assert!(missing.is_empty(), "{} of {} answered escalations lost after SIGKILL: {missing:?}", missing.len(), answered.len());

    // No escalation is stored half: every conversation has its whole transcript.
    let store = sottovoce_server::store::Store::connect(&db).await.unwrap();
    let stored = store.list_conversations(sottovoce::protocol::ConversationStatus::Open, 1_000_000).await.unwrap();
    assert!(stored.len() >= answered.len());
    assert!(stored.iter().all(|c| c.message_count == 3), "a conversation was stored without its whole transcript");
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "durability: {} escalations answered before SIGKILL, all {} found after restart ({} stored in all)",
        answered.len(),
        answered.len(),
        stored.len()
    );
}
