-- Triage (sqlite; keep in step with ../postgres/): the agent a conversation is assigned to
-- (NULL: unassigned) and the team's canned replies ({name}, {agent}, {customer_id}, {locale}
-- are filled per conversation when an agent opens it).
ALTER TABLE conversations ADD COLUMN assignee_id INTEGER REFERENCES agents (id);

CREATE TABLE canned_replies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
