-- Omnichannel (sqlite; keep in step with ../postgres/): agent presence, the email a
-- visitor gave for one escalation (with consent), extra visitor tokens (resume link, other
-- devices), messaging-channel chats, and the channel a conversation came from.
ALTER TABLE conversations ADD COLUMN channel TEXT NOT NULL DEFAULT 'web';

CREATE TABLE agent_presence (
    agent_id   INTEGER PRIMARY KEY REFERENCES agents (id),
    status     TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);

CREATE TABLE conversation_contacts (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id),
    email           TEXT NOT NULL,
    consent_ms      INTEGER NOT NULL,
    last_mailed_id  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE visitor_tokens (
    token_hash      TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    created_ms      INTEGER NOT NULL
);

CREATE TABLE channel_chats (
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    state_json      TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations (id),
    last_sent_id    INTEGER NOT NULL DEFAULT 0,
    updated_ms      INTEGER NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE INDEX channel_chats_conversation ON channel_chats (conversation_id);
