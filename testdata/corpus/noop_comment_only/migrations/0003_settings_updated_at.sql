-- migrate:up
ALTER TABLE settings ADD COLUMN updated_at TEXT;
-- migrate:down
ALTER TABLE settings DROP COLUMN updated_at;
