-- A search asks a municipality's newest inquiries first: each row's terms also carry the
-- lexeme '#<municipality>/<inquiry id >> 12>' (its bucket of 4,096 ids), and a search asks
-- for the newest buckets beside its words before older ones (see torg-store-sql's
-- SearchSpan). A trigger adds it to every row written, whoever writes it (a node of the
-- previous version during a rolling upgrade, a bulk load with COPY); the rows there are
-- rewritten once, as 0041 did: minutes at millions of inquiries (see docs/deployment.md).
CREATE FUNCTION inquiry_terms_bucket() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.terms := NEW.terms || array_to_tsvector(ARRAY['#' || NEW.tenant_id::text || '/' || (NEW.inquiry_id >> 12)::text]);
    RETURN NEW;
END
$$;
CREATE TRIGGER inquiry_terms_bucket BEFORE INSERT ON inquiry_terms
    FOR EACH ROW EXECUTE FUNCTION inquiry_terms_bucket();
DROP INDEX IF EXISTS inquiry_terms_terms;
UPDATE inquiry_terms
SET terms = terms || array_to_tsvector(ARRAY['#' || tenant_id::text || '/' || (inquiry_id >> 12)::text]);
CREATE INDEX inquiry_terms_terms ON inquiry_terms USING GIN (terms);
