-- Opening hours of one unit or one channel where they differ from the municipality's
-- (scope "unit:<id>" or "channel:<name>").
CREATE TABLE scoped_opening_hours (
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    scope      TEXT NOT NULL,
    weekly     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, scope)
);
