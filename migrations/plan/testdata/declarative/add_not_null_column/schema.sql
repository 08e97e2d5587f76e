-- A priority that every note has: NOT NULL, so it needs a DEFAULT for the
-- rows that exist already.
CREATE TABLE notes (
  id       INTEGER PRIMARY KEY,
  title    TEXT NOT NULL DEFAULT '',
  body     TEXT,
  priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3)
);
