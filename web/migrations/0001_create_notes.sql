-- The first shape of the notes table, as a first version of an app would
-- write it: times as ISO-8601 text, tags as one comma-separated string.
-- migrate:up
CREATE TABLE notes (
  id      INTEGER PRIMARY KEY,
  title   TEXT NOT NULL DEFAULT '',
  body    TEXT NOT NULL DEFAULT '',
  tags    TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX notes_updated ON notes (updated);

-- migrate:down
DROP TABLE notes;
