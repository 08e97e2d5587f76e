-- Written by `larder migrate diff` from the schema file: review it before committing.
-- migrate:up
DROP INDEX events_kind;

-- migrate:down
CREATE INDEX events_kind ON events (kind);
