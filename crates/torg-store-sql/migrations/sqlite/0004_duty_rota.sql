-- The duty rota (vaktliste): shifts per channel group, with a handover note.
CREATE TABLE duty_shifts (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES municipalities(id),
    channel_group  TEXT NOT NULL,
    user_id        INTEGER NOT NULL,
    starts_at      INTEGER NOT NULL,
    ends_at        INTEGER NOT NULL,
    handover_note  TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX duty_shifts_by_time ON duty_shifts (tenant_id, channel_group, starts_at);
