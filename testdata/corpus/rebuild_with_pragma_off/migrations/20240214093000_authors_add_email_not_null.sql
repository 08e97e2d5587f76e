-- migrate:up
-- SQLite cannot add a NOT NULL column without a default to a table with
-- rows, so rebuild authors the way the SQLite documentation describes.
PRAGMA foreign_keys = OFF;

CREATE TABLE authors_new (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT ''
);
INSERT INTO authors_new (id, name) SELECT id, name FROM authors;
DROP TABLE authors;
ALTER TABLE authors_new RENAME TO authors;
CREATE UNIQUE INDEX authors_name ON authors (name);

PRAGMA foreign_key_check;
PRAGMA foreign_keys = ON;

-- migrate:down
CREATE TABLE authors_old (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO authors_old (id, name) SELECT id, name FROM authors;
DROP TABLE authors;
ALTER TABLE authors_old RENAME TO authors;
