-- Written by `larder migrate diff` from the schema file: review it before committing.
-- lint L001 dropped-table (warning): table topics_v1 is dropped
-- migrate:up
-- migrate:breaking  (L001 dropped-table: table topics_v1 is dropped)
ALTER TABLE topics_v1 RENAME TO topics;

ALTER TABLE topics RENAME COLUMN author TO author_name;

ALTER TABLE topics ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;

-- migrate:down
ALTER TABLE topics RENAME TO topics_v1;

ALTER TABLE topics_v1 RENAME COLUMN author_name TO author;

ALTER TABLE topics_v1 DROP COLUMN pinned;
