-- Reach of published posts (rekkevidde): reactions, comments and shares read back from the
-- networks for each post of a published message (an outbox entry sent to Facebook,
-- Instagram or Mastodon), kept at the last reading.
CREATE TABLE post_reach (
    outbox_id BIGINT PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL REFERENCES municipalities(id),
    reactions BIGINT NOT NULL,
    comments  BIGINT NOT NULL,
    shares    BIGINT NOT NULL,
    read_at   BIGINT NOT NULL
);
