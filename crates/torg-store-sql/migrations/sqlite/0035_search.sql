-- Full-text search (søk): one row per inquiry (rowid = the inquiry's id) holding the terms
-- torg_domain::search gives its name, contacts, subject and messages, separated by spaces.
-- The terms are analysed in Rust, so the tokenizer only splits them (and keeps å, ä, ö, æ,
-- ø); no positions are kept (detail none): the search needs only which inquiries hold a term.
CREATE VIRTUAL TABLE inquiry_terms USING fts5(
    terms,
    tenant_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0',
    detail = 'none'
);
