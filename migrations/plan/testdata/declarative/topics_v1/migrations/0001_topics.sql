-- migrate:up
CREATE TABLE topics_v1 (
  id     INTEGER PRIMARY KEY,
  title  TEXT NOT NULL,
  author TEXT NOT NULL,
  votes  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX topics_v1_author ON topics_v1 (author);
-- migrate:down
DROP TABLE topics_v1;
