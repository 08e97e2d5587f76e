-- migrate:up
-- This number was used by a migration that was reverted before release.
-- It stays, empty, so that databases that applied it keep a matching history.

-- migrate:down
