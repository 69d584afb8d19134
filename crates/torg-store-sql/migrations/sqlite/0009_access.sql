-- Per-unit access (tilgang per enhet): memberships and sensitive units; login lockout;
-- single sign-on subjects.
ALTER TABLE units ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;

ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
-- The subject ("sub") of the user at the municipality's identity provider.
ALTER TABLE users ADD COLUMN external_subject TEXT;
CREATE UNIQUE INDEX users_by_external_subject ON users (tenant_id, external_subject);

CREATE TABLE unit_memberships (
    tenant_id  INTEGER NOT NULL REFERENCES municipalities(id),
    user_id    INTEGER NOT NULL,
    unit_id    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, unit_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id)
);
-- Everybody starts as a member of their home unit.
INSERT INTO unit_memberships (tenant_id, user_id, unit_id)
    SELECT tenant_id, id, unit_id FROM users WHERE unit_id IS NOT NULL;
