-- Deadline policies (svarfrist) per municipality, narrowed by channel, unit and topic.
CREATE TABLE deadline_policies (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    channel    TEXT,
    unit_id    INTEGER,
    topic      TEXT,
    policy     TEXT NOT NULL,
    FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id)
);
CREATE INDEX deadline_policies_by_tenant ON deadline_policies (tenant_id, id);
