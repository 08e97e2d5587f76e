-- migrate:up
CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
INSERT INTO events (payload) VALUES ('a'), ('b'), ('c');
-- migrate:down
DROP TABLE events;
