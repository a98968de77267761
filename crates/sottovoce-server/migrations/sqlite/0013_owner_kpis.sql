-- The owner's loop (sqlite; keep in step with ../postgres/): an agent's role (`agent` or
-- `owner`, who also sees the KPI dashboard), and the widget's anonymous KPI reports, one row per
-- conversation: counts only, keyed by the SHA-256 of a random id the widget makes per
-- conversation, dated by the server's clock (UTC day of the first report).
ALTER TABLE agents ADD COLUMN role TEXT NOT NULL DEFAULT 'agent';

CREATE TABLE kpi_reports (
    id_hash     TEXT PRIMARY KEY,
    day         TEXT NOT NULL,
    locale      TEXT NOT NULL,
    kpis_json   TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE INDEX kpi_reports_day ON kpi_reports (day);
