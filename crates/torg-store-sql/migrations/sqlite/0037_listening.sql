-- Listening (lytting): the sources a municipality reads (feeds, Mastodon hashtags), its
-- keywords, and the items that met them, each once per source.
CREATE TABLE listening_sources (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES municipalities(id),
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    -- What the last good answer said, for conditional requests (and Mastodon's since_id).
    etag           TEXT,
    last_modified  TEXT,
    cursor         TEXT,
    next_check_at  INTEGER NOT NULL,
    -- A node reading it holds it until then.
    lease_until    INTEGER,
    failures       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    last_checked_at INTEGER,
    UNIQUE (tenant_id, kind, address),
    UNIQUE (tenant_id, id)
);
CREATE INDEX listening_sources_due ON listening_sources (next_check_at);

CREATE TABLE listening_keywords (
    tenant_id INTEGER NOT NULL REFERENCES municipalities(id),
    word      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, word)
);

CREATE TABLE listening_matches (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    source_id    INTEGER NOT NULL,
    guid         TEXT NOT NULL,
    title        TEXT NOT NULL,
    link         TEXT NOT NULL,
    summary      TEXT NOT NULL,
    keywords     TEXT NOT NULL,
    published_at INTEGER,
    found_at     INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'new',
    notified_at  INTEGER,
    inquiry_id   INTEGER,
    crisis_id    INTEGER,
    decided_by   TEXT,
    UNIQUE (tenant_id, source_id, guid),
    FOREIGN KEY (tenant_id, source_id) REFERENCES listening_sources (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX listening_matches_by_state ON listening_matches (tenant_id, state, found_at);
CREATE INDEX listening_matches_unnotified ON listening_matches (found_at) WHERE notified_at IS NULL;
