-- The demo's canonical schema: what the migrations in web/migrations
-- produce, kept by hand as the thing to read and edit. Change it, then let
-- `larder migrate diff --dir web/migrations --schema web/schema.sql NAME`
-- write the migration; `larder schema check` (run by `go test ./cmd/larder`)
-- fails when the two disagree. See docs/schema-first.md.

-- Notes: ids are text made on the device (UUIDv7), so that two devices
-- cannot both invent one (sync.toml syncs notes, owned by owner_id); tags
-- is the synced JSON array the local tag index below is built from. Times
-- are integer milliseconds since the Unix epoch (Date.now()).
CREATE TABLE notes (
  id         TEXT    PRIMARY KEY NOT NULL CHECK (id <> ''),
  owner_id   TEXT    NOT NULL DEFAULT '',
  title      TEXT    NOT NULL DEFAULT '' CHECK (length(title) <= 200),
  body       TEXT    NOT NULL DEFAULT '',
  tags       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
  pinned     INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  updated_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
) STRICT;
CREATE INDEX notes_owner_id ON notes (owner_id);
CREATE INDEX notes_pinned_updated_at ON notes (pinned DESC, updated_at DESC);
CREATE INDEX notes_updated_at ON notes (updated_at);

-- Tags, unique case-insensitively, and the notes that carry them: a local
-- index of notes.tags, kept by the triggers below (not synced).
CREATE TABLE tags (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (name <> '')
) STRICT;

CREATE TABLE note_tags (
  note_id TEXT    NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
  tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (note_id, tag_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX note_tags_tag_id ON note_tags (tag_id);

-- Full-text search (FTS5, in larder-fts5.wasm), kept in step by triggers.
CREATE VIRTUAL TABLE notes_fts USING fts5 (
  id UNINDEXED, title, body, tags,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER notes_index_delete AFTER DELETE ON notes BEGIN
  DELETE FROM note_tags WHERE note_id = old.id;
  DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM note_tags);
  DELETE FROM notes_fts WHERE id = old.id;
END;
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
CREATE TRIGGER notes_index_update AFTER UPDATE OF title, body, tags ON notes BEGIN
  UPDATE notes_fts SET title = new.title, body = new.body,
    tags = (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(new.tags))
  WHERE id = old.id;
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
