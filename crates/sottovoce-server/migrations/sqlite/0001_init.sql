-- sottovoce escalation server, schema 1 (SQLite). Keep in step with ../postgres/0001_init.sql.
-- Times are milliseconds since the Unix epoch. Secrets are stored only as SHA-256 hashes.
CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    created_ms    BIGINT NOT NULL,
    updated_ms    BIGINT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open',
    locale        TEXT NOT NULL,
    bot_id        TEXT,
    page_url      TEXT,
    profile_json  TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    idem_key_hash TEXT UNIQUE,
    token_sealed  TEXT,
    body_hash     TEXT,
    resolved_ms   BIGINT
);
CREATE INDEX conversations_status_updated ON conversations (status, updated_ms);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    created_ms      BIGINT NOT NULL,
    author          TEXT NOT NULL,
    author_name     TEXT,
    text            TEXT NOT NULL,
    intent          TEXT,
    confidence      DOUBLE PRECISION,
    sentiment       DOUBLE PRECISION,
    client_id       TEXT
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_id);

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_ms    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id   BIGINT NOT NULL REFERENCES agents (id),
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
