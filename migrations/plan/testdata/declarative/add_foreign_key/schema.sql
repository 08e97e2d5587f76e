CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE posts (
  id        INTEGER PRIMARY KEY,
  author_id INTEGER REFERENCES authors (id) ON DELETE CASCADE,
  title     TEXT NOT NULL
);
CREATE INDEX posts_author_id ON posts (author_id);
