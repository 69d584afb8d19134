-- Full-text search (søk): one row per inquiry holding the terms torg_domain::search gives its
-- name, contacts, subject and messages, as a tsvector of those exact lexemes (no parser or
-- dictionary of PostgreSQL's own runs over them, so both stores find the same).
CREATE TABLE inquiry_terms (
    inquiry_id BIGINT PRIMARY KEY REFERENCES inquiries(id) ON DELETE CASCADE,
    tenant_id  BIGINT NOT NULL,
    terms      TSVECTOR NOT NULL
);
CREATE INDEX inquiry_terms_terms ON inquiry_terms USING GIN (terms);
