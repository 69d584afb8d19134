-- Journal sequence numbers (journalsekvensnummer): given to a message the first time it goes
-- into an extract, then kept, so that every later extract numbers it the same. A number is
-- never given twice in a municipality's year, and stays taken if its message is ever deleted.
CREATE TABLE journal_numbers (
    tenant_id   INTEGER NOT NULL REFERENCES municipalities(id),
    message_id  INTEGER NOT NULL,
    year        INTEGER NOT NULL,
    sequence    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, message_id),
    UNIQUE (tenant_id, year, sequence)
);
