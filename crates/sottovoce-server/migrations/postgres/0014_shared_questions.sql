-- Questions visitors agreed to share to improve the bot (postgres; keep in step with ../sqlite/): the
-- redacted text, its locale, `unmatched` or `pick` (with the intent picked), keyed by the
-- SHA-256 of the widget's random id (a retry is stored once), dated by the server (UTC day).
CREATE TABLE shared_questions (
    id          BIGSERIAL PRIMARY KEY,
    id_hash     TEXT NOT NULL UNIQUE,
    day         TEXT NOT NULL,
    locale      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    intent      TEXT,
    text        TEXT NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE INDEX shared_questions_day ON shared_questions (day);
