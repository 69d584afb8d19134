-- Planned peaks: a window with its own deadline policy and a staffing note.
CREATE TABLE planned_peaks (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES municipalities(id),
    name           TEXT NOT NULL,
    starts_at      INTEGER NOT NULL,
    ends_at        INTEGER NOT NULL,
    policy         TEXT NOT NULL,
    staffing_note  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX planned_peaks_by_time ON planned_peaks (tenant_id, ends_at);
