-- PostgreSQL's search index gained each inquiry's blocks of ids as lexemes (0043); SQLite's FTS5
-- index walks its rows newest first on its own and needs nothing: the number keeps both
-- backends' migrations in step.
SELECT 1;
