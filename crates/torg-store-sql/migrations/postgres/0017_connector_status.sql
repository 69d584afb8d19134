-- How each connector of a municipality last went (mailbox, outgoing mail, SMS gateway).
CREATE TABLE connector_status (
    tenant_id  BIGINT NOT NULL REFERENCES municipalities(id),
    connector  TEXT NOT NULL,
    ok         BIGINT NOT NULL,
    detail     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, connector)
);
