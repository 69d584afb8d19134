-- A message in other languages (Finnish and English beside Swedish, Hällefors; nynorsk beside
-- bokmål): the portal shows the reader's language where a version exists.
CREATE TABLE publication_versions (
    tenant_id      BIGINT NOT NULL REFERENCES municipalities(id),
    publication_id BIGINT NOT NULL REFERENCES publications(id),
    language       TEXT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    PRIMARY KEY (publication_id, language)
);
