-- Social-media accounts a municipality answers from (Facebook page, Instagram account,
-- Mastodon account): where their API is, the sealed token and app secret, the webhook's
-- verify token, the registry address that must be approved, and how far Mastodon's
-- notifications have been read.
CREATE TABLE social_accounts (
    tenant_id         INTEGER NOT NULL REFERENCES municipalities(id),
    channel           TEXT NOT NULL,
    account           TEXT NOT NULL,
    api_base          TEXT NOT NULL,
    access_token      TEXT NOT NULL,
    app_secret        TEXT NOT NULL,
    verify_token      TEXT NOT NULL,
    registry_address  TEXT NOT NULL,
    cursor            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, channel, account)
);
