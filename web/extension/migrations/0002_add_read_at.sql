-- Items can be marked read; NULL means unread.
-- migrate:up
ALTER TABLE items ADD COLUMN read_at INTEGER;

-- migrate:down
ALTER TABLE items DROP COLUMN read_at;
