-- The channel registry (kanaloversikt): the municipality's official accounts.
CREATE TABLE channel_accounts (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES municipalities(id),
    channel        TEXT NOT NULL,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    owner_unit_id  INTEGER,
    purpose        TEXT NOT NULL,
    ambition       TEXT NOT NULL,
    opening_hours  TEXT NOT NULL,
    status         TEXT NOT NULL,
    proposed_by    INTEGER,
    decided_by     INTEGER,
    decided_at     INTEGER,
    created_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, channel, address),
    FOREIGN KEY (tenant_id, owner_unit_id) REFERENCES units (tenant_id, id)
);
