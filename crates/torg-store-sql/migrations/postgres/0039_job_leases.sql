-- Jobs that run once per installation (the mail and Mastodon readers, deadline warnings,
-- retention, listening, reach, surveys, the crisis expander): the node that holds a job's
-- lease runs it and renews it; when the lease runs out (the node died), another node takes
-- the job over.
CREATE TABLE job_leases (
    job        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    taken_at   BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
