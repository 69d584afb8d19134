-- The search index finds a municipality's hits without reading other municipalities' rows:
-- each row's terms carry the lexeme '#<municipality>' (no word of a text gives '#'), and a
-- search asks for it beside its words, so the GIN index intersects the two itself.
DROP INDEX IF EXISTS inquiry_terms_terms;
UPDATE inquiry_terms SET terms = terms || array_to_tsvector(ARRAY['#' || tenant_id::text]);
CREATE INDEX inquiry_terms_terms ON inquiry_terms USING GIN (terms);
