-- A message's own text for a network, where the writer wants other words than the title,
-- first paragraph and link Torg writes by itself (hashtags on Instagram, a shorter status).
CREATE TABLE publication_variants (
    tenant_id      BIGINT NOT NULL REFERENCES municipalities(id),
    publication_id BIGINT NOT NULL REFERENCES publications(id),
    channel        TEXT NOT NULL,
    body           TEXT NOT NULL,
    PRIMARY KEY (publication_id, channel)
);
