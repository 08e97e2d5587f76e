-- The demo's canonical schema: what the migrations in web/migrations
-- produce, kept by hand as the thing to read and edit. Change it, then let
-- `larder migrate diff --dir web/migrations --schema web/schema.sql NAME`
-- write the migration; `larder schema check` (run by `go test ./cmd/larder`)
-- fails when the two disagree. See docs/schema-first.md.

-- Notes: times are integer milliseconds since the Unix epoch (Date.now()).
CREATE TABLE notes (
  id         INTEGER PRIMARY KEY,
  title      TEXT    NOT NULL DEFAULT '' CHECK (length(title) <= 200),
  body       TEXT    NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  updated_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  pinned     INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1))
) STRICT;
CREATE INDEX notes_updated_at ON notes (updated_at);
CREATE INDEX notes_pinned_updated_at ON notes (pinned DESC, updated_at DESC);

-- Tags, unique case-insensitively, and the notes that carry them.
CREATE TABLE tags (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (name <> '')
) STRICT;

CREATE TABLE note_tags (
  note_id INTEGER NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
  tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (note_id, tag_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX note_tags_tag_id ON note_tags (tag_id);

-- Full-text search (FTS5, in larder-fts5.wasm), kept in step by triggers.
CREATE VIRTUAL TABLE notes_fts USING fts5 (
  title, body, tags,
  tokenize = 'unicode61 remove_diacritics 2'
);

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
