-- Publishing: one message written once, approved, shown to staff first and then on the
-- portal's news at its time. The approval is bound to the text's hash.
CREATE TABLE publications (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES municipalities(id),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    language      TEXT NOT NULL,
    state         TEXT NOT NULL,
    author_id     INTEGER NOT NULL REFERENCES users(id),
    approved_by   INTEGER REFERENCES users(id),
    approved_hash TEXT,
    publish_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX publications_due ON publications (tenant_id, state, publish_at);

CREATE TABLE publishing_settings (
    tenant_id          INTEGER PRIMARY KEY REFERENCES municipalities(id),
    four_eyes          INTEGER NOT NULL DEFAULT 1,
    staff_lead_minutes INTEGER NOT NULL DEFAULT 30
);
