CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE posts (
  id        INTEGER PRIMARY KEY,
  author_id INTEGER,
  title     TEXT NOT NULL
);
