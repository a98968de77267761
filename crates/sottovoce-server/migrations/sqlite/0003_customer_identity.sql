-- Identity verification (sqlite; keep in step with ../postgres/): the customer id a
-- consented escalation carried, and whether the site's user_hash vouched for it.
ALTER TABLE conversations ADD COLUMN customer_id TEXT;
ALTER TABLE conversations ADD COLUMN identity TEXT NOT NULL DEFAULT 'unverified';
