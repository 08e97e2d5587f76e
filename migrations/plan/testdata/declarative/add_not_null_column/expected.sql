-- Written by `larder migrate diff` from the schema file: review it before committing.
-- migrate:up
ALTER TABLE notes ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3);

-- migrate:down
ALTER TABLE notes DROP COLUMN priority;
