-- The media log (medielogg): contacts with the press, and possible press stories flagged by
-- staff for the communication chief ("Kommunikasjonssjef skal være informert om mulige
-- medie-/pressesaker", Ski).
CREATE TABLE media_log (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    kind       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    outlet     TEXT NOT NULL,
    person     TEXT NOT NULL,
    topic      TEXT NOT NULL,
    notes      TEXT NOT NULL,
    inquiry_id INTEGER REFERENCES inquiries(id),
    by_user    INTEGER NOT NULL REFERENCES users(id)
);
CREATE INDEX media_log_by_time ON media_log (tenant_id, at);
