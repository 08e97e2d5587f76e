-- migrate:up
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  payload BLOB
);
-- migrate:down
DROP TABLE events;
