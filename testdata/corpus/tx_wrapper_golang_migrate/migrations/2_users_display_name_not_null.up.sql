-- The shape pocket-id's golang-migrate files have: the tool runs a file as
-- it is, so the file brings its own transaction, and switches foreign keys
-- off around it to rebuild a table that others reference.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE users_new (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL DEFAULT ''
);
INSERT INTO users_new (id, username, display_name)
  SELECT id, username, coalesce(display_name, username) FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

COMMIT;
PRAGMA foreign_keys = ON;
