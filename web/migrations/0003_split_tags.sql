-- A data migration: the comma-separated notes.tags string becomes a tags
-- table and a note_tags link table, so tags are unique (case-insensitively),
-- countable and renameable. Every existing note keeps its tags.
-- migrate:up
-- migrate:breaking  (notes.tags is dropped)
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

-- "work, ideas,,Later" -> 'work', 'ideas', 'Later'; the first spelling wins.
INSERT OR IGNORE INTO tags (name)
WITH RECURSIVE split (note_id, name, rest) AS (
  SELECT id, '', tags || ',' FROM notes
  UNION ALL
  SELECT note_id, trim(substr(rest, 1, instr(rest, ',') - 1)), substr(rest, instr(rest, ',') + 1)
  FROM split WHERE rest <> ''
)
SELECT name FROM split WHERE name <> '' ORDER BY note_id;

INSERT OR IGNORE INTO note_tags (note_id, tag_id)
WITH RECURSIVE split (note_id, name, rest) AS (
  SELECT id, '', tags || ',' FROM notes
  UNION ALL
  SELECT note_id, trim(substr(rest, 1, instr(rest, ',') - 1)), substr(rest, instr(rest, ',') + 1)
  FROM split WHERE rest <> ''
)
SELECT split.note_id, tags.id FROM split JOIN tags ON tags.name = split.name
WHERE split.name <> '';

ALTER TABLE notes DROP COLUMN tags;

-- migrate:down
ALTER TABLE notes ADD COLUMN tags TEXT NOT NULL DEFAULT '';
UPDATE notes SET tags = coalesce((
  SELECT group_concat(tags.name, ', ')
  FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
  WHERE note_tags.note_id = notes.id
), '');
DROP TABLE note_tags;
DROP TABLE tags;
