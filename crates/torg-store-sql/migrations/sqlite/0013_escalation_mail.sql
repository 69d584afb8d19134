-- Escalation by email: staff have an address, and an inquiry remembers when its warning
-- went out (so it goes once).
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE inquiries ADD COLUMN warned_at INTEGER;
