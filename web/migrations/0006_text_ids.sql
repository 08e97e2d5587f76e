-- Notes get ids that two devices cannot both invent, so that they can sync
-- (docs/sync.md): notes.id becomes TEXT, made on the device as a UUIDv7
-- (web/notes.js); notes made before keep their integer id, as text ('1').
-- notes.owner_id names the user a synced note belongs to ('' until the
-- device syncs; web/sync.toml). notes.tags comes back as the synced source
-- of a note's tags, a JSON array of names (["home","Errands"]), and the
-- tags and note_tags tables become a local index of it kept by triggers,
-- like the full-text index: a pulled note carries its tags, and no integer
-- tag id has to match across devices.
--
-- SQLite's table rebuild (https://sqlite.org/lang_altertable.html#otheralter).
-- note_tags references notes, so it is dropped first and rebuilt from
-- notes.tags; the FTS5 index is rebuilt keyed by the text id (an
-- UNINDEXED column: the rowid of a table without INTEGER PRIMARY KEY may
-- change on VACUUM).
-- migrate:up
-- migrate:breaking  (notes.id is TEXT: code that inserts notes without an id fails)
CREATE TABLE notes_new (
  id         TEXT    PRIMARY KEY NOT NULL CHECK (id <> ''),
  owner_id   TEXT    NOT NULL DEFAULT '',
  title      TEXT    NOT NULL DEFAULT '' CHECK (length(title) <= 200),
  body       TEXT    NOT NULL DEFAULT '',
  tags       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
  pinned     INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  updated_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
) STRICT;

INSERT INTO notes_new (id, owner_id, title, body, tags, pinned, created_at, updated_at)
SELECT CAST(notes.id AS TEXT), '', notes.title, notes.body, (
  SELECT json_group_array(name) FROM (
    SELECT tags.name FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
    WHERE note_tags.note_id = notes.id ORDER BY tags.name COLLATE NOCASE)
), notes.pinned, notes.created_at, notes.updated_at
FROM notes;

DROP TRIGGER note_tags_fts_delete;
DROP TRIGGER note_tags_fts_insert;
DROP TRIGGER notes_fts_delete;
DROP TRIGGER notes_fts_update;
DROP TRIGGER notes_fts_insert;
DROP TABLE notes_fts;
DROP TABLE note_tags;
DROP TABLE notes;
ALTER TABLE notes_new RENAME TO notes;
CREATE INDEX notes_updated_at ON notes (updated_at);
CREATE INDEX notes_pinned_updated_at ON notes (pinned DESC, updated_at DESC);
CREATE INDEX notes_owner_id ON notes (owner_id);

-- The tags table keeps its rows (local ids, never synced).
CREATE TABLE note_tags (
  note_id TEXT    NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
  tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (note_id, tag_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX note_tags_tag_id ON note_tags (tag_id);

INSERT OR IGNORE INTO tags (name)
SELECT trim(j.value) FROM notes, json_each(notes.tags) AS j
WHERE j.type = 'text' AND trim(j.value) <> '';
INSERT OR IGNORE INTO note_tags (note_id, tag_id)
SELECT notes.id, tags.id FROM notes, json_each(notes.tags) AS j JOIN tags ON tags.name = trim(j.value)
WHERE j.type = 'text';
DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM note_tags);

CREATE VIRTUAL TABLE notes_fts USING fts5 (
  id UNINDEXED, title, body, tags,
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO notes_fts (id, title, body, tags)
SELECT id, title, body, (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(notes.tags))
FROM notes;

-- The local indexes follow every write to notes: the app's, and the rows a
-- sync pulls. An insert first clears what an earlier row of the same id
-- left (INSERT OR REPLACE does not fire the delete trigger). No OR IGNORE
-- in the bodies: the conflict policy of the statement that fires a trigger
-- overrides its own (sync applies with an upsert).
CREATE TRIGGER notes_index_insert AFTER INSERT ON notes BEGIN
  DELETE FROM note_tags WHERE note_id = new.id;
  INSERT INTO tags (name)
  SELECT n FROM (SELECT trim(value) AS n, min(key) FROM json_each(new.tags)
    WHERE type = 'text' AND trim(value) <> '' GROUP BY trim(value) COLLATE NOCASE)
  WHERE NOT EXISTS (SELECT 1 FROM tags WHERE tags.name = n);
  INSERT INTO note_tags (note_id, tag_id)
  SELECT DISTINCT new.id, tags.id FROM json_each(new.tags) AS j JOIN tags ON tags.name = trim(j.value) WHERE j.type = 'text';
  DELETE FROM notes_fts WHERE id = new.id;
  INSERT INTO notes_fts (id, title, body, tags)
  VALUES (new.id, new.title, new.body, (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(new.tags)));
END;

CREATE TRIGGER notes_index_update_tags AFTER UPDATE OF tags ON notes BEGIN
  DELETE FROM note_tags WHERE note_id = old.id;
  INSERT INTO tags (name)
  SELECT n FROM (SELECT trim(value) AS n, min(key) FROM json_each(new.tags)
    WHERE type = 'text' AND trim(value) <> '' GROUP BY trim(value) COLLATE NOCASE)
  WHERE NOT EXISTS (SELECT 1 FROM tags WHERE tags.name = n);
  INSERT INTO note_tags (note_id, tag_id)
  SELECT DISTINCT new.id, tags.id FROM json_each(new.tags) AS j JOIN tags ON tags.name = trim(j.value) WHERE j.type = 'text';
  DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM note_tags);
END;

CREATE TRIGGER notes_index_update AFTER UPDATE OF title, body, tags ON notes BEGIN
  UPDATE notes_fts SET title = new.title, body = new.body,
    tags = (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(new.tags))
  WHERE id = old.id;
END;

CREATE TRIGGER notes_index_delete AFTER DELETE ON notes BEGIN
  DELETE FROM note_tags WHERE note_id = old.id;
  DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM note_tags);
  DELETE FROM notes_fts WHERE id = old.id;
END;

-- migrate:down
-- Back to integer ids: notes whose id is an integer keep it, the others
-- (made on a device since) get the next free one. Tags come back from
-- notes.tags.
DROP TRIGGER notes_index_delete;
DROP TRIGGER notes_index_update;
DROP TRIGGER notes_index_update_tags;
DROP TRIGGER notes_index_insert;
DROP TABLE notes_fts;
CREATE TABLE notes_old (
  id         INTEGER PRIMARY KEY,
  title      TEXT    NOT NULL DEFAULT '' CHECK (length(title) <= 200),
  body       TEXT    NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  updated_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  pinned     INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  text_id    TEXT    NOT NULL,
  tag_list   TEXT    NOT NULL
) STRICT;
INSERT INTO notes_old (id, title, body, created_at, updated_at, pinned, text_id, tag_list)
SELECT CAST(id AS INTEGER), title, body, created_at, updated_at, pinned, id, tags FROM notes
WHERE id NOT GLOB '*[^0-9]*' AND length(id) < 19 ORDER BY CAST(id AS INTEGER);
INSERT INTO notes_old (title, body, created_at, updated_at, pinned, text_id, tag_list)
SELECT title, body, created_at, updated_at, pinned, id, tags FROM notes
WHERE NOT (id NOT GLOB '*[^0-9]*' AND length(id) < 19) ORDER BY created_at, id;
DROP TABLE note_tags;
DROP TABLE notes;
CREATE TABLE note_tags (
  note_id INTEGER NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
  tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (note_id, tag_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX note_tags_tag_id ON note_tags (tag_id);
INSERT OR IGNORE INTO tags (name)
SELECT trim(j.value) FROM notes_old, json_each(notes_old.tag_list) AS j
WHERE j.type = 'text' AND trim(j.value) <> '';
INSERT OR IGNORE INTO note_tags (note_id, tag_id)
SELECT notes_old.id, tags.id FROM notes_old, json_each(notes_old.tag_list) AS j JOIN tags ON tags.name = trim(j.value)
WHERE j.type = 'text';
ALTER TABLE notes_old DROP COLUMN text_id;
ALTER TABLE notes_old DROP COLUMN tag_list;
ALTER TABLE notes_old RENAME TO notes;
CREATE INDEX notes_updated_at ON notes (updated_at);
CREATE INDEX notes_pinned_updated_at ON notes (pinned DESC, updated_at DESC);
CREATE VIRTUAL TABLE notes_fts USING fts5 (
  title, body, tags,
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO notes_fts (rowid, title, body, tags)
SELECT notes.id, notes.title, notes.body, coalesce((
  SELECT group_concat(tags.name, ' ')
  FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
  WHERE note_tags.note_id = notes.id
), '')
FROM notes;
CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
  INSERT INTO notes_fts (rowid, title, body, tags) VALUES (new.id, new.title, new.body, '');
END;
CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, body ON notes BEGIN
  UPDATE notes_fts SET title = new.title, body = new.body WHERE rowid = new.id;
END;
CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
  DELETE FROM notes_fts WHERE rowid = old.id;
END;
CREATE TRIGGER note_tags_fts_insert AFTER INSERT ON note_tags BEGIN
  UPDATE notes_fts SET tags = (
    SELECT group_concat(tags.name, ' ')
    FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
    WHERE note_tags.note_id = new.note_id
  ) WHERE rowid = new.note_id;
END;
CREATE TRIGGER note_tags_fts_delete AFTER DELETE ON note_tags BEGIN
  UPDATE notes_fts SET tags = coalesce((
    SELECT group_concat(tags.name, ' ')
    FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
    WHERE note_tags.note_id = old.note_id
  ), '') WHERE rowid = old.note_id;
END;
