-- The archive: the archivist's decision on each inquiry (archive-worthy or not, and why), what
-- the public journal screens; moderation keyword lists; how long what is not a record is kept,
-- and the log of what the retention job deleted (reference, dates and counts, no content).
CREATE TABLE archive_decisions (
    tenant_id        INTEGER NOT NULL REFERENCES municipalities(id),
    inquiry_id       INTEGER NOT NULL,
    decision         TEXT NOT NULL,
    reasons          TEXT NOT NULL DEFAULT '',
    decided_by       INTEGER,
    decided_at       INTEGER NOT NULL,
    screening_basis  TEXT,
    screen_names     INTEGER NOT NULL DEFAULT 0,
    public_title     TEXT,
    PRIMARY KEY (tenant_id, inquiry_id),
    FOREIGN KEY (tenant_id, inquiry_id) REFERENCES inquiries (tenant_id, id),
    FOREIGN KEY (tenant_id, decided_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX archive_decisions_by_decision ON archive_decisions (tenant_id, decision, inquiry_id);
CREATE INDEX messages_by_time ON messages (tenant_id, created_at);
CREATE INDEX inquiries_closed ON inquiries (tenant_id, closed_at) WHERE closed_at IS NOT NULL;

CREATE TABLE moderation_keywords (
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    word       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, word)
);

ALTER TABLE municipalities ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 365;

CREATE TABLE deletion_log (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES municipalities(id),
    reference    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    closed_at    INTEGER,
    deleted_at   INTEGER NOT NULL,
    messages     INTEGER NOT NULL,
    attachments  INTEGER NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX deletion_log_by_tenant ON deletion_log (tenant_id, id);
