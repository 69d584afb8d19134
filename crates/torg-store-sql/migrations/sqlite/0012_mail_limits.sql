-- Mail limits: attachment types a municipality does not take in, and automatic notices (the
-- polite answer to an oversized or refused message) sent through the outbox without an inquiry.

ALTER TABLE mail_accounts ADD COLUMN blocked_extensions TEXT NOT NULL
    DEFAULT 'bat,cmd,com,cpl,dll,exe,hta,iso,jar,js,jse,lnk,msi,ps1,scr,vbe,vbs,wsf';

-- SQLite cannot drop NOT NULL in place: the outbox is rebuilt with inquiry and message optional
-- and a text of its own (used when there is no message).
CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES municipalities(id),
    inquiry_id       INTEGER,
    message_id       INTEGER REFERENCES messages(id),
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
    body             TEXT,
    UNIQUE (tenant_id, header_id),
    FOREIGN KEY (tenant_id, inquiry_id) REFERENCES inquiries (tenant_id, id),
    CHECK (message_id IS NOT NULL OR body IS NOT NULL)
);
INSERT INTO outbox_new (id, tenant_id, inquiry_id, message_id, channel, recipient, subject, header_id,
                        in_reply_to, refs, status, attempts, next_attempt_at, lease_until, last_error,
                        created_at, sent_at)
    SELECT id, tenant_id, inquiry_id, message_id, channel, recipient, subject, header_id,
           in_reply_to, refs, status, attempts, next_attempt_at, lease_until, last_error,
           created_at, sent_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (channel, status, next_attempt_at);
CREATE INDEX outbox_by_inquiry ON outbox (tenant_id, inquiry_id);
