-- One person's private conversation with a page (Messenger, Instagram Direct): later
-- messages join the open inquiry with the same thread key.
ALTER TABLE inquiries ADD COLUMN thread_key TEXT;
CREATE INDEX inquiries_by_thread ON inquiries (tenant_id, channel, thread_key) WHERE thread_key IS NOT NULL;
