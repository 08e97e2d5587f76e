-- Written by `larder migrate diff` from the schema file: review it before committing.
-- lint L004 renamed-column (warning): column users.name is renamed to full_name
-- migrate:up
-- migrate:breaking  (L004 renamed-column: column users.name is renamed to full_name)
ALTER TABLE users RENAME COLUMN name TO full_name;

-- migrate:down
ALTER TABLE users RENAME COLUMN full_name TO name;
