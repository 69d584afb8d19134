-- Outgoing webhooks: integrations (a case-management system, an archive) told of events.
-- Each has its secret (sealed with the installation's key) and the audit entry after which
-- its events are still to be queued; deliveries go through the outbox (channel 'api',
-- recipient the webhook's id, header_id 'webhook-<id>-<seq>' once).
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES municipalities(id),
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    after_seq   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, id);
CREATE INDEX outbox_by_recipient ON outbox (tenant_id, channel, recipient, id);
