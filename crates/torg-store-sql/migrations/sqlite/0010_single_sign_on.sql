-- Single sign-on (OpenID Connect) per municipality: its identity provider and how the
-- provider's role claim maps to Torg's roles.
CREATE TABLE sso_providers (
    tenant_id      INTEGER PRIMARY KEY REFERENCES municipalities(id),
    issuer         TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    client_secret  TEXT NOT NULL,
    -- The ID token claim that carries roles or groups, e.g. "roles" or "groups".
    role_claim     TEXT NOT NULL,
    -- "claim-value=role, claim-value=role".
    role_map       TEXT NOT NULL
);
