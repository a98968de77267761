-- Webhook deliveries waiting to be sent or retried (SQLite). Keep in step with ../postgres/.
-- A row is deleted once delivered or given up; next_ms is when to try next (ms since the epoch).
CREATE TABLE webhook_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event      TEXT NOT NULL,
    body       TEXT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    next_ms    BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX webhook_outbox_next ON webhook_outbox (next_ms);
