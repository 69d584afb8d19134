-- SMS delivery reports: when the phone network says a message was delivered.
ALTER TABLE outbox ADD COLUMN delivered_at BIGINT;
