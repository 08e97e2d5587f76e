-- Times become integer milliseconds since the Unix epoch (what JavaScript's
-- Date.now() gives), columns are renamed to created_at / updated_at, and the
-- table becomes STRICT with a length check on the title. ALTER TABLE can do
-- none of that, so this is SQLite's table rebuild
-- (https://sqlite.org/lang_altertable.html#otheralter): create the new
-- table, copy, drop the old one, rename, recreate the indexes.
-- No other table references notes yet, so dropping it fires no foreign key
-- action.
-- migrate:up
-- migrate:breaking  (created/updated are renamed: old code cannot read them)
CREATE TABLE notes_new (
  id         INTEGER PRIMARY KEY,
  title      TEXT    NOT NULL DEFAULT '' CHECK (length(title) <= 200),
  body       TEXT    NOT NULL DEFAULT '',
  tags       TEXT    NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  updated_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
) STRICT;

INSERT INTO notes_new (id, title, body, tags, created_at, updated_at)
SELECT id, substr(title, 1, 200), body, tags,
       coalesce(CAST(round(unixepoch(created, 'subsec') * 1000) AS INTEGER), 0),
       coalesce(CAST(round(unixepoch(updated, 'subsec') * 1000) AS INTEGER), 0)
FROM notes;

DROP TABLE notes;
ALTER TABLE notes_new RENAME TO notes;
CREATE INDEX notes_updated_at ON notes (updated_at);

-- migrate:down
CREATE TABLE notes_old (
  id      INTEGER PRIMARY KEY,
  title   TEXT NOT NULL DEFAULT '',
  body    TEXT NOT NULL DEFAULT '',
  tags    TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO notes_old (id, title, body, tags, created, updated)
SELECT id, title, body, tags,
       strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%fZ', updated_at / 1000.0, 'unixepoch')
FROM notes;
DROP TABLE notes;
ALTER TABLE notes_old RENAME TO notes;
CREATE INDEX notes_updated ON notes (updated);
