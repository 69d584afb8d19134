-- When a session was last used: a session unused for longer than the idle limit is over.
-- 0 for sessions from before (counted as used now).
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
