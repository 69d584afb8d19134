-- API tokens limited to units (empty: every unit that is not sensitive), with an expiry and
-- a revocation, and when they were made.
ALTER TABLE api_tokens ADD COLUMN units TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN revoked_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
