-- Pinned notes stay on top of the list. An additive change: old code that
-- does not know the column keeps working.
-- migrate:up
ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
CREATE INDEX notes_pinned_updated_at ON notes (pinned DESC, updated_at DESC);

-- migrate:down
DROP INDEX notes_pinned_updated_at;
ALTER TABLE notes DROP COLUMN pinned;
