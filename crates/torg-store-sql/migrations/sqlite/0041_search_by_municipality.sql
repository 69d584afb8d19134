-- PostgreSQL's search index gained the municipality as a lexeme (0041); SQLite's FTS5 index
-- needs nothing: the number keeps both backends' migrations in step.
SELECT 1;
