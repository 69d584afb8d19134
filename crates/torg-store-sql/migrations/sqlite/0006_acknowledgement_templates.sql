-- A municipality's own acknowledgement texts (kvittering), per language.
CREATE TABLE acknowledgement_templates (
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    language   TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, language)
);
