-- migrate:up
DELETE FROM events WHERE kind = 'debug';
-- migrate:down
