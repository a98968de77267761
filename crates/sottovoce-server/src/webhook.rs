//! Signed webhooks (HMAC-SHA256), delivered with retries and backoff.
//!
//! Every event is POSTed as JSON to the configured URL with
//! `X-Sottovoce-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>` (the same scheme as
//! GitHub's `X-Hub-Signature-256`), `X-Sottovoce-Event` and `X-Sottovoce-Delivery` (a unique
//! id, so a receiver can drop duplicates). A non-2xx answer or a network error is retried up to
//! [`ATTEMPTS`] times in all, waiting 0.5 s, 1 s, 2 s… between attempts.
//!
//! Deliveries wait in the database (`webhook_outbox`), so a restart or a crash delays them
//! rather than dropping them: `escalation.created` and `message.created` are queued in the
//! transaction that stores what they report. A worker in every process claims due rows (a
//! lease of three request timeouts, so two processes on one PostgreSQL never send the same
//! attempt twice) and deletes them once delivered or given up. Delivery is at least once: a
//! process killed after the receiver answered but before the row was deleted sends it again
//! once the lease ends, with the same `X-Sottovoce-Delivery` (measured in `tests/faults.rs`).

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{Notify, Semaphore};

use crate::metrics::{Counter, Metrics};
use crate::store::{now_ms, PendingWebhook, Store};
use crate::WebhookConfig;

/// Attempts per event, the first included.
pub const ATTEMPTS: i64 = 7;
/// Wait before the first retry; doubled for each further one.
pub const FIRST_RETRY_MS: i64 = 500;
/// How long a claimed delivery is left to its worker before another may take it, in request
/// timeouts ([`WebhookConfig::timeout`]): one attempt never takes longer than one timeout plus
/// an outbox update, and after a crash the deliveries it held go out again after this.
const LEASE_TIMEOUTS: u32 = 3;

/// `sha256=<hex>` of HMAC-SHA256 over `body` keyed with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The outbox's front door and its delivery worker.
#[derive(Debug, Clone)]
pub struct Webhooks {
    wake: Arc<Notify>,
}

impl Webhooks {
    /// Starts the delivery worker (at most 16 deliveries in flight), and has `store` queue
    /// `escalation.created` and `message.created` with what they report ([`Store::queue_webhooks`]).
    pub fn start(config: WebhookConfig, metrics: Metrics, store: Store) -> Webhooks {
        store.queue_webhooks();
        let wake = Arc::new(Notify::new());
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        tokio::spawn(worker(store.clone(), wake.clone(), client, Arc::new(config), metrics));
        Webhooks { wake }
    }

    /// Tells the worker that the store queued a delivery (a resolution, a submission), so it
    /// looks now rather than at its next 250 ms poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

async fn worker(store: Store, wake: Arc<Notify>, client: reqwest::Client, config: Arc<WebhookConfig>, metrics: Metrics) {
    let slots = Arc::new(Semaphore::new(16));
    let lease_ms = i64::try_from((config.timeout * LEASE_TIMEOUTS).as_millis()).unwrap_or(i64::MAX);
    loop {
        let due = match store.due_webhooks(now_ms(), 16).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "reading the webhook outbox failed");
                Vec::new()
            }
        };
        if due.is_empty() {
            // New events wake us; retries come due on their own, so look again soon anyway.
            let _ = tokio::time::timeout(Duration::from_millis(250), wake.notified()).await;
            continue;
        }
        for pending in due {
            match store.claim_webhook(&pending, now_ms() + lease_ms).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a webhook failed");
                    continue;
                }
            }
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let (store, client, config, metrics) = (store.clone(), client.clone(), config.clone(), metrics.clone());
            tokio::spawn(async move {
                attempt(&store, &client, &config, &metrics, pending).await;
                drop(permit);
            });
        }
    }
}

/// One attempt: delete on 2xx, otherwise schedule the next attempt or give up.
async fn attempt(store: &Store, client: &reqwest::Client, config: &WebhookConfig, metrics: &Metrics, w: PendingWebhook) {
    let delivery: String = serde_json::from_str::<serde_json::Value>(&w.body)
        .ok()
        .and_then(|v| v["delivery_id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let result = client
        .post(&config.url)
        .header("content-type", "application/json")
        .header("x-sottovoce-event", &w.event)
        .header("x-sottovoce-delivery", &delivery)
        .header("x-sottovoce-signature", sign(config.secret.as_bytes(), w.body.as_bytes()))
        .body(w.body.clone())
        .send()
        .await;
    let attempts = w.attempts + 1;
    let outcome = match result {
        Ok(response) if response.status().is_success() => {
            metrics.inc(Counter::WebhookOk);
            store.delete_webhook(w.id).await
        }
        failed => {
            match failed {
                Ok(response) => tracing::warn!(event = %w.event, attempts, status = %response.status(), "webhook refused"),
                Err(e) => tracing::warn!(event = %w.event, attempts, error = %e, "webhook failed"),
            }
            if attempts >= ATTEMPTS {
                metrics.inc(Counter::WebhookGaveUp);
                store.delete_webhook(w.id).await
            } else {
                metrics.inc(Counter::WebhookRetried);
                store.retry_webhook(w.id, attempts, now_ms() + (FIRST_RETRY_MS << (attempts - 1))).await
            }
        }
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "updating the webhook outbox failed; the lease will expire and it will be retried");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            super::sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
