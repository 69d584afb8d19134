-- Email: each municipality's mailbox, the durable outbox, and quarantined mail.

-- The mailbox Torg reads (IMAP) and the server it sends through (SMTP).
CREATE TABLE mail_accounts (
    tenant_id          INTEGER PRIMARY KEY REFERENCES municipalities(id),
    address            TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    imap_host          TEXT NOT NULL,
    imap_port          INTEGER NOT NULL,
    imap_security      TEXT NOT NULL,
    imap_user          TEXT NOT NULL,
    imap_password      TEXT NOT NULL,
    imap_folder        TEXT NOT NULL,
    smtp_host          TEXT NOT NULL,
    smtp_port          INTEGER NOT NULL,
    smtp_security      TEXT NOT NULL,
    smtp_user          TEXT NOT NULL,
    smtp_password      TEXT NOT NULL,
    max_message_bytes  INTEGER NOT NULL
);

-- The Message-ID of an email message (inbound: the sender's; outbound: ours), so that a
-- message fetched twice is stored once and replies find their inquiry.
ALTER TABLE messages ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX messages_by_external_id ON messages (tenant_id, external_id);

-- What is to be sent, written in the same transaction as the message it carries.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES municipalities(id),
    inquiry_id       INTEGER NOT NULL,
    message_id       INTEGER NOT NULL REFERENCES messages(id),
    channel          TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    header_id        TEXT NOT NULL,
    in_reply_to      TEXT,
    refs             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    UNIQUE (tenant_id, header_id),
    FOREIGN KEY (tenant_id, inquiry_id) REFERENCES inquiries (tenant_id, id)
);
CREATE INDEX outbox_due ON outbox (channel, status, next_attempt_at);
CREATE INDEX outbox_by_inquiry ON outbox (tenant_id, inquiry_id);

-- Mail Torg could not take in (malformed, too large, an auto-reply to nothing), with the reason.
CREATE TABLE mail_quarantine (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES municipalities(id),
    message_id   TEXT NOT NULL,
    sender       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    raw          BLOB NOT NULL,
    received_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, message_id)
);
