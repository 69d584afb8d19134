-- Subscriptions and crisis communication: a municipality's areas (a polygon each, and the
-- postcodes inside it) and topics; subscribers by email or SMS with what they chose; the
-- addresses that asked to stop (a hash only); broadcasts, whose text the outbox entries of
-- their many recipients share; crisis templates, crises, their CAP messages, their log and
-- the inquiries linked to them.
CREATE TABLE areas (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    name       TEXT NOT NULL,
    polygon    TEXT NOT NULL,
    postcodes  TEXT NOT NULL,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
);
CREATE TABLE subscription_topics (
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    key        TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE TABLE subscribers (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES municipalities(id),
    medium        TEXT NOT NULL,
    address       TEXT NOT NULL,
    token         TEXT NOT NULL UNIQUE,
    topics        TEXT NOT NULL,
    areas         TEXT NOT NULL,
    language      TEXT NOT NULL,
    consent       TEXT NOT NULL,
    confirmed_at  INTEGER,
    asked_at      INTEGER NOT NULL,
    asked_count   INTEGER NOT NULL DEFAULT 1,
    test_recipient INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, medium, address)
);
CREATE INDEX subscribers_confirmed ON subscribers (tenant_id, medium, confirmed_at);
CREATE TABLE subscription_stops (
    tenant_id     INTEGER NOT NULL REFERENCES municipalities(id),
    address_hash  TEXT NOT NULL,
    at            INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, address_hash)
);
-- A broadcast is written first as its audience (a durable intent, committed with what
-- causes it), then expanded into one outbox entry per subscriber; `expanded_at` is set in the
-- expansion's transaction, so a crash between the two expands it later, once.
CREATE TABLE broadcasts (
    id                 INTEGER PRIMARY KEY,
    tenant_id          INTEGER NOT NULL REFERENCES municipalities(id),
    medium             TEXT NOT NULL,
    subject            TEXT NOT NULL,
    body               TEXT NOT NULL,
    topic              TEXT,
    areas              TEXT NOT NULL,
    test_only          INTEGER NOT NULL,
    header_prefix      TEXT NOT NULL,
    manage_base        TEXT NOT NULL,
    due_at             INTEGER NOT NULL,
    crisis_message_id  INTEGER,
    recipients         INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    expanded_at        INTEGER
);
CREATE INDEX broadcasts_waiting ON broadcasts (expanded_at);
ALTER TABLE outbox ADD COLUMN broadcast_id INTEGER REFERENCES broadcasts(id);
ALTER TABLE outbox ADD COLUMN unsubscribe TEXT;

CREATE TABLE crisis_templates (
    tenant_id    INTEGER NOT NULL REFERENCES municipalities(id),
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    event        TEXT NOT NULL,
    category     TEXT NOT NULL,
    severity     TEXT NOT NULL,
    headline     TEXT NOT NULL,
    instruction  TEXT NOT NULL,
    words        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE TABLE crises (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES municipalities(id),
    template         TEXT NOT NULL,
    drill            INTEGER NOT NULL,
    areas            TEXT NOT NULL,
    all_subscribers  INTEGER NOT NULL,
    started_by       TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    UNIQUE (tenant_id, id)
);
CREATE INDEX crises_open ON crises (tenant_id, ended_at);
CREATE TABLE crisis_messages (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    crisis_id    INTEGER NOT NULL,
    msg_type     TEXT NOT NULL,
    headline     TEXT NOT NULL,
    text         TEXT NOT NULL,
    instruction  TEXT NOT NULL,
    sent_at      INTEGER NOT NULL,
    recipients   INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, crisis_id) REFERENCES crises (tenant_id, id)
);
CREATE INDEX crisis_messages_of ON crisis_messages (tenant_id, crisis_id, id);
CREATE TABLE crisis_log (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    crisis_id  INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    FOREIGN KEY (tenant_id, crisis_id) REFERENCES crises (tenant_id, id)
);
CREATE INDEX crisis_log_of ON crisis_log (tenant_id, crisis_id, at);
CREATE TABLE crisis_inquiries (
    tenant_id   INTEGER NOT NULL,
    crisis_id   INTEGER NOT NULL,
    inquiry_id  INTEGER NOT NULL,
    linked_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, crisis_id, inquiry_id),
    FOREIGN KEY (tenant_id, crisis_id) REFERENCES crises (tenant_id, id),
    FOREIGN KEY (tenant_id, inquiry_id) REFERENCES inquiries (tenant_id, id)
);
