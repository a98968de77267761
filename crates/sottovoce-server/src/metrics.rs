//! Prometheus counters served at `/metrics` (text exposition format 0.0.4).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counters since the process started. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    escalations_created: AtomicU64,
    escalations_replayed: AtomicU64,
    messages_visitor: AtomicU64,
    messages_agent: AtomicU64,
    resolved: AtomicU64,
    rate_limited: AtomicU64,
    sse_opened: AtomicU64,
    agent_logins_ok: AtomicU64,
    agent_logins_failed: AtomicU64,
    webhook_ok: AtomicU64,
    webhook_retried: AtomicU64,
    webhook_gave_up: AtomicU64,
}

/// Which counter to add one to.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Counter {
    /// A new escalation was stored.
    EscalationCreated,
    /// A retried escalation was answered from its idempotency key.
    EscalationReplayed,
    /// A visitor message was stored.
    VisitorMessage,
    /// An agent reply was stored.
    AgentMessage,
    /// A conversation was resolved.
    Resolved,
    /// A request was refused by a rate limit.
    RateLimited,
    /// An SSE stream was opened.
    SseOpened,
    /// An agent signed in.
    LoginOk,
    /// A sign-in failed.
    LoginFailed,
    /// A webhook was delivered (2xx).
    WebhookOk,
    /// A webhook attempt failed and will be retried.
    WebhookRetried,
    /// A webhook failed every attempt.
    WebhookGaveUp,
}

impl Metrics {
    /// Adds one to `counter`.
    pub fn inc(&self, counter: Counter) {
        let c = &self.inner;
        let cell = match counter {
            Counter::EscalationCreated => &c.escalations_created,
            Counter::EscalationReplayed => &c.escalations_replayed,
            Counter::VisitorMessage => &c.messages_visitor,
            Counter::AgentMessage => &c.messages_agent,
            Counter::Resolved => &c.resolved,
            Counter::RateLimited => &c.rate_limited,
            Counter::SseOpened => &c.sse_opened,
            Counter::LoginOk => &c.agent_logins_ok,
            Counter::LoginFailed => &c.agent_logins_failed,
            Counter::WebhookOk => &c.webhook_ok,
            Counter::WebhookRetried => &c.webhook_retried,
            Counter::WebhookGaveUp => &c.webhook_gave_up,
        };
        cell.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let c = &self.inner;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut family = |name: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        family("sottovoce_escalations_created_total", "Escalations stored.", &[("", get(&c.escalations_created))]);
        family(
            "sottovoce_escalations_replayed_total",
            "Retried escalations answered from their idempotency key.",
            &[("", get(&c.escalations_replayed))],
        );
        family(
            "sottovoce_messages_total",
            "Messages stored after escalation, by author.",
            &[("{author=\"visitor\"}", get(&c.messages_visitor)), ("{author=\"agent\"}", get(&c.messages_agent))],
        );
        family("sottovoce_escalations_resolved_total", "Conversations resolved.", &[("", get(&c.resolved))]);
        family("sottovoce_rate_limited_total", "Requests refused by a rate limit.", &[("", get(&c.rate_limited))]);
        family("sottovoce_sse_streams_opened_total", "Server-Sent Event streams opened.", &[("", get(&c.sse_opened))]);
        family(
            "sottovoce_agent_logins_total",
            "Agent sign-in attempts, by result.",
            &[("{result=\"ok\"}", get(&c.agent_logins_ok)), ("{result=\"failed\"}", get(&c.agent_logins_failed))],
        );
        family(
            "sottovoce_webhook_deliveries_total",
            "Webhook attempts, by result.",
            &[
                ("{result=\"ok\"}", get(&c.webhook_ok)),
                ("{result=\"retried\"}", get(&c.webhook_retried)),
                ("{result=\"gave_up\"}", get(&c.webhook_gave_up)),
            ],
        );
        out
    }
}
