-- Reach of published posts (rekkevidde): reactions, comments and shares read back from the
-- networks for each post of a published message (an outbox entry sent to Facebook,
-- Instagram or Mastodon), kept at the last reading.
CREATE TABLE post_reach (
    outbox_id INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES municipalities(id),
    reactions INTEGER NOT NULL,
    comments  INTEGER NOT NULL,
    shares    INTEGER NOT NULL,
    read_at   INTEGER NOT NULL
);
