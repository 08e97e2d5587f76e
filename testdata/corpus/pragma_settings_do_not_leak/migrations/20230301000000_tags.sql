-- migrate:up
CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE tag_counts (label TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0);
-- migrate:down
DROP TABLE tag_counts;
DROP TABLE tags;
