-- Two transactions in one file: under golang-migrate the first commits even
-- when the second fails. Not a wrapper around the whole part: refused.
BEGIN;
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
COMMIT;
BEGIN;
INSERT INTO tags (name) SELECT DISTINCT body FROM notes;
COMMIT;
