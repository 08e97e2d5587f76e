ALTER TABLE notes ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
UPDATE notes SET tags = '["greeting"]' WHERE body IN ('hello', 'bye');
