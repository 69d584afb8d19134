-- A search asks a municipality's newest inquiries first: each row's terms also carry the
-- lexeme '#<municipality>/<inquiry id >> 12>' (its bucket of 4,096 ids), and a search asks
-- for the newest buckets beside its words before older ones (see torg-store-sql's
-- SearchSpan). Rewrites every row of the index, as 0041 did: minutes at millions of
-- inquiries (measured in docs/deployment.md).
DROP INDEX IF EXISTS inquiry_terms_terms;
UPDATE inquiry_terms
SET terms = terms || array_to_tsvector(ARRAY['#' || tenant_id::text || '/' || (inquiry_id >> 12)::text]);
CREATE INDEX inquiry_terms_terms ON inquiry_terms USING GIN (terms);
