-- Evaluation (evaluering): the satisfaction survey sent after closing, what a municipality
-- chose (costs per contact, what it publishes and under which licence), how often portal
-- news is read, and an index for counting a period's inquiries.
CREATE TABLE surveys (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES municipalities(id),
    -- Emptied when retention deletes the inquiry: the score stays in the figures.
    inquiry_id  INTEGER,
    channel     TEXT NOT NULL,
    unit_id     INTEGER NOT NULL,
    closed_at   INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    -- When the question went out (by email or SMS) or was put on the follow page.
    sent_at     INTEGER,
    -- Dropped: the inquiry was reopened, or the question was too late to ask.
    dropped     INTEGER NOT NULL DEFAULT 0,
    token_hash  TEXT,
    score       INTEGER,
    comment     TEXT NOT NULL DEFAULT '',
    answered_at INTEGER,
    UNIQUE (tenant_id, inquiry_id),
    FOREIGN KEY (tenant_id, inquiry_id) REFERENCES inquiries (tenant_id, id)
);
CREATE INDEX surveys_due ON surveys (due_at) WHERE sent_at IS NULL AND dropped = 0;
-- The evaluation counts a period's answers from the index alone.
CREATE INDEX surveys_by_closing ON surveys (tenant_id, closed_at, sent_at, channel, unit_id, score);
CREATE UNIQUE INDEX surveys_by_token ON surveys (token_hash);

CREATE TABLE evaluation_settings (
    tenant_id INTEGER PRIMARY KEY REFERENCES municipalities(id),
    costs     TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL DEFAULT '',
    licence   TEXT NOT NULL DEFAULT 'NLOD-2.0',
    surveys   INTEGER NOT NULL DEFAULT 1
);

ALTER TABLE publications ADD COLUMN views INTEGER NOT NULL DEFAULT 0;

-- A period's inquiries are counted from this index alone (it holds every column the
-- evaluation reads), so a year of a large municipality is read without the table.
CREATE INDEX inquiries_by_received ON inquiries
    (tenant_id, received_at, channel, unit_id, status, first_answer_at, closed_at, deadline_at);
