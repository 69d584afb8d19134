-- Torg foundation schema (SQLite). Every table carries its municipality (tenant_id).
-- Timestamps are milliseconds since the Unix epoch (UTC).

CREATE TABLE municipalities (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    language    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE units (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES municipalities(id),
    name             TEXT NOT NULL,
    is_service_desk  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES municipalities(id),
    username       TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    unit_id        INTEGER,
    UNIQUE (tenant_id, username),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id)
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES municipalities(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    csrf_token  TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES municipalities(id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE
);

CREATE TABLE routing_rules (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    position   INTEGER NOT NULL,
    keyword    TEXT,
    topic      TEXT,
    channel    TEXT,
    unit_id    INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id)
);
CREATE INDEX routing_rules_by_tenant ON routing_rules (tenant_id, position);

CREATE TABLE canned_replies (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    UNIQUE (tenant_id, title)
);

CREATE TABLE reference_counters (
    tenant_id    INTEGER NOT NULL REFERENCES municipalities(id),
    year         INTEGER NOT NULL,
    last_number  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

CREATE TABLE inquiries (
    id                 INTEGER PRIMARY KEY,
    tenant_id          INTEGER NOT NULL REFERENCES municipalities(id),
    ref_year           INTEGER NOT NULL,
    ref_number         INTEGER NOT NULL,
    reference          TEXT NOT NULL,
    channel            TEXT NOT NULL,
    status             TEXT NOT NULL,
    topic              TEXT,
    subject            TEXT,
    citizen_name       TEXT NOT NULL,
    contact_email      TEXT,
    contact_phone      TEXT,
    language           TEXT NOT NULL,
    unit_id            INTEGER NOT NULL,
    assignee_id        INTEGER,
    priority           INTEGER NOT NULL DEFAULT 0,
    follow_token_hash  TEXT NOT NULL,
    preview            TEXT NOT NULL,
    received_at        INTEGER NOT NULL,
    acknowledged_at    INTEGER,
    first_answer_at    INTEGER,
    closed_at          INTEGER,
    deadline_at        INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    external_id        TEXT,
    UNIQUE (tenant_id, reference),
    UNIQUE (tenant_id, channel, external_id),
    UNIQUE (tenant_id, id),
    -- Tenancy in the database too: a unit or person of another municipality cannot be referenced.
    FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id),
    FOREIGN KEY (tenant_id, assignee_id) REFERENCES users (tenant_id, id)
);
-- The inbox: open work by deadline, per unit and for the whole municipality.
CREATE INDEX inquiries_open_by_unit ON inquiries (tenant_id, unit_id, deadline_at, received_at, id) WHERE status <> 'closed';
CREATE INDEX inquiries_open ON inquiries (tenant_id, deadline_at, received_at, id) WHERE status <> 'closed';
CREATE INDEX inquiries_all ON inquiries (tenant_id, deadline_at, received_at, id);
CREATE INDEX inquiries_by_assignee ON inquiries (tenant_id, assignee_id, deadline_at, received_at, id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES municipalities(id),
    inquiry_id      INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    author_user_id  INTEGER REFERENCES users(id),
    author_name     TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, inquiry_id) REFERENCES inquiries (tenant_id, id)
);
CREATE INDEX messages_by_inquiry ON messages (tenant_id, inquiry_id, id);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES municipalities(id),
    inquiry_id    INTEGER NOT NULL,
    message_id    INTEGER NOT NULL REFERENCES messages(id),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    data          BLOB NOT NULL,
    FOREIGN KEY (tenant_id, inquiry_id) REFERENCES inquiries (tenant_id, id)
);
CREATE INDEX attachments_by_inquiry ON attachments (tenant_id, inquiry_id, id);
