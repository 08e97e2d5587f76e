-- Full-text search over titles, bodies and tags with FTS5
-- (https://sqlite.org/fts5.html), kept in step by triggers. FTS5 is not in
-- the default larder.wasm: the demo opens larder-fts5.wasm, built by
-- `make build EXT=fts5`.
-- migrate:up
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

-- migrate:down
DROP TRIGGER note_tags_fts_delete;
DROP TRIGGER note_tags_fts_insert;
DROP TRIGGER notes_fts_delete;
DROP TRIGGER notes_fts_update;
DROP TRIGGER notes_fts_insert;
DROP TABLE notes_fts;
