-- A search asks a municipality's newest inquiries first: each row's terms also carry the
-- inquiry's blocks of ids at four levels, '#<municipality>/<id >> 12>' (4,096 ids) and
-- '#<municipality>:<level>/<id >> (12 + 3 level)>' for levels 1 to 3, and a search asks for
-- the newest blocks beside its words before older ones (see torg-store-sql's SearchSpan). A
-- trigger adds them to every row written, whoever writes it (a node of the previous version
-- during a rolling upgrade, a bulk load with COPY); the rows there are rewritten once, as 0041
-- did: minutes at millions of inquiries (see docs/deployment.md).
CREATE FUNCTION inquiry_terms_blocks(tenant BIGINT, inquiry BIGINT) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_to_tsvector(ARRAY[
        '#' || tenant::text || '/' || (inquiry >> 12)::text,
        '#' || tenant::text || ':1/' || (inquiry >> 15)::text,
        '#' || tenant::text || ':2/' || (inquiry >> 18)::text,
        '#' || tenant::text || ':3/' || (inquiry >> 21)::text])
$$;
CREATE FUNCTION inquiry_terms_add_blocks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.terms := NEW.terms || inquiry_terms_blocks(NEW.tenant_id, NEW.inquiry_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER inquiry_terms_blocks BEFORE INSERT ON inquiry_terms
    FOR EACH ROW EXECUTE FUNCTION inquiry_terms_add_blocks();
DROP INDEX IF EXISTS inquiry_terms_terms;
UPDATE inquiry_terms SET terms = terms || inquiry_terms_blocks(tenant_id, inquiry_id);
CREATE INDEX inquiry_terms_terms ON inquiry_terms USING GIN (terms);
