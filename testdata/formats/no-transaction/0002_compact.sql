-- VACUUM cannot run inside a transaction.
-- migrate:up transaction:false
DELETE FROM events WHERE payload = 'b';
VACUUM;
-- migrate:down
INSERT INTO events (payload) VALUES ('b');
