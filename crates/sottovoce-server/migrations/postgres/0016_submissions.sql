-- What visitors agreed to send from a finished form (postgres; keep in step with the other folder):
-- sales leads, newsletter sign-ups and back-in-stock requests, keyed by the SHA-256 of the
-- widget's random id (a retry is stored once); `fields` is the JSON object of the form's slots.
CREATE TABLE submissions (
    id          BIGSERIAL PRIMARY KEY,
    id_hash     TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    locale      TEXT NOT NULL,
    fields      TEXT NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE INDEX submissions_kind ON submissions (kind, id);
