-- The annual wheel (årshjul): what a municipality plans to communicate through the year, and
-- the private links of its calendar feeds (per municipality, or per unit).
CREATE TABLE wheel_items (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER NOT NULL REFERENCES municipalities(id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    unit_id             INTEGER REFERENCES units(id),
    responsible_user_id INTEGER REFERENCES users(id),
    target_group        TEXT NOT NULL DEFAULT '',
    area                TEXT NOT NULL DEFAULT '',
    mark                TEXT NOT NULL,
    recurrence          TEXT NOT NULL,
    created_at          INTEGER NOT NULL
);
CREATE INDEX wheel_items_tenant ON wheel_items (tenant_id, unit_id);

CREATE TABLE wheel_feeds (
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    -- 0: the whole municipality's wheel.
    unit_id    INTEGER NOT NULL DEFAULT 0,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, unit_id)
);
