-- A message is news (the portal's news page) or a press release (the portal's press page).
ALTER TABLE publications ADD COLUMN kind TEXT NOT NULL DEFAULT 'news';
