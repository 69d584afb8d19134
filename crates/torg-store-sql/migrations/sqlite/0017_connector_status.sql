-- How each connector of a municipality last went (mailbox, outgoing mail, SMS gateway).
CREATE TABLE connector_status (
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    connector  TEXT NOT NULL,
    ok         INTEGER NOT NULL,
    detail     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, connector)
);
