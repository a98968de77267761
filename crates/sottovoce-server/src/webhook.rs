//! Signed webhooks (HMAC-SHA256), delivered with retries and backoff.
//!
//! Every event is POSTed as JSON to the configured URL with
//! `X-Sottovoce-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>` (the same scheme as
//! GitHub's `X-Hub-Signature-256`), `X-Sottovoce-Event` and `X-Sottovoce-Delivery` (a unique
//! id, so a receiver can drop duplicates). A non-2xx answer or a network error is retried up to
//! [`ATTEMPTS`] times in all, waiting 0.5 s, 1 s, 2 s… between attempts.
//!
//! Deliveries are queued in memory: a restart drops the ones still being retried (the
//! conversation itself is already stored).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{mpsc, Semaphore};

use crate::metrics::{Counter, Metrics};
use crate::WebhookConfig;

/// Attempts per event, the first included.
pub const ATTEMPTS: u32 = 7;

/// `sha256=<hex>` of HMAC-SHA256 over `body` keyed with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The delivery queue.
#[derive(Debug, Clone)]
pub struct Webhooks {
    queue: mpsc::UnboundedSender<(String, Vec<u8>)>,
}

impl Webhooks {
    /// Starts the delivery task (at most 16 deliveries in flight).
    pub fn start(config: WebhookConfig, metrics: Metrics) -> Webhooks {
        let (queue, mut rx) = mpsc::unbounded_channel::<(String, Vec<u8>)>();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        tokio::spawn(async move {
            let slots = std::sync::Arc::new(Semaphore::new(16));
            while let Some((event, body)) = rx.recv().await {
                let Ok(permit) = slots.clone().acquire_owned().await else { break };
                let (client, config, metrics) = (client.clone(), config.clone(), metrics.clone());
                tokio::spawn(async move {
                    deliver(&client, &config, &metrics, &event, body).await;
                    drop(permit);
                });
            }
        });
        Webhooks { queue }
    }

    /// Queues `event` (`escalation.created`, `message.created`, `escalation.resolved`) with
    /// `data`; the body is `{"event", "delivery_id", "created_ms", "data"}`.
    pub fn send(&self, event: &str, data: serde_json::Value) {
        let body = serde_json::json!({
            "event": event,
            "delivery_id": crate::api::random_hex(16),
            "created_ms": crate::store::now_ms(),
            "data": data,
        });
        let _ = self.queue.send((event.to_owned(), body.to_string().into_bytes()));
    }
}

async fn deliver(client: &reqwest::Client, config: &WebhookConfig, metrics: &Metrics, event: &str, body: Vec<u8>) {
    let signature = sign(config.secret.as_bytes(), &body);
    let delivery: String = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["delivery_id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut delay = Duration::from_millis(500);
    for attempt in 1..=ATTEMPTS {
        let result = client
            .post(&config.url)
            .header("content-type", "application/json")
            .header("x-sottovoce-event", event)
            .header("x-sottovoce-delivery", &delivery)
            .header("x-sottovoce-signature", &signature)
            .body(body.clone())
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => {
                metrics.inc(Counter::WebhookOk);
                return;
            }
            Ok(response) => tracing::warn!(event, attempt, status = %response.status(), "webhook refused"),
            Err(e) => tracing::warn!(event, attempt, error = %e, "webhook failed"),
        }
        if attempt == ATTEMPTS {
            break;
        }
        metrics.inc(Counter::WebhookRetried);
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    metrics.inc(Counter::WebhookGaveUp);
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
