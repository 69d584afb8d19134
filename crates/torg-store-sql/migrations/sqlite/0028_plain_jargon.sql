-- A municipality's own words to avoid, with the plainer word to write (beside the shipped
-- lists of the plain-language checker).
CREATE TABLE plain_jargon (
    tenant_id INTEGER NOT NULL REFERENCES municipalities(id),
    phrase    TEXT NOT NULL,
    plainer   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, phrase)
);
