-- A municipality's own opening hours (as "mon-fri 08:00-15:30; …") and closed or shortened days.
CREATE TABLE opening_hours (
    tenant_id  INTEGER PRIMARY KEY REFERENCES municipalities(id),
    weekly     TEXT NOT NULL
);

CREATE TABLE closed_days (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    day        TEXT NOT NULL,
    closes_at  TEXT,
    note       TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, day)
);
