-- migrate:up
CREATE TABLE notes (
  id    INTEGER PRIMARY KEY,
  title TEXT NOT NULL DEFAULT '',
  body  TEXT
);
-- migrate:down
DROP TABLE notes;
