-- SMS: each municipality's gateway (Kannel's sendsms interface), its code words, and the
-- numbers that have sent STOPP.
CREATE TABLE sms_gateways (
    tenant_id    INTEGER PRIMARY KEY REFERENCES municipalities(id),
    sendsms_url  TEXT NOT NULL,
    username     TEXT NOT NULL,
    password     TEXT NOT NULL,
    sender       TEXT NOT NULL,
    inbound_key  TEXT NOT NULL
);
CREATE TABLE sms_keywords (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    keyword    TEXT NOT NULL,
    unit_id    INTEGER,
    reply      TEXT NOT NULL,
    UNIQUE (tenant_id, keyword),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id)
);
CREATE TABLE sms_consent (
    tenant_id   INTEGER NOT NULL REFERENCES municipalities(id),
    phone       TEXT NOT NULL,
    stopped_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, phone)
);
