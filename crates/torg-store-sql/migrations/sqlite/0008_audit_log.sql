-- The tamper-evident audit log: entries hash-chained per municipality.
CREATE TABLE audit_log (
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    object     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    source     TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
