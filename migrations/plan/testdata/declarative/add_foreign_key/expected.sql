-- Written by `larder migrate diff` from the schema file: review it before committing.
-- migrate:up
-- review: new foreign key posts(author_id) -> authors: existing rows that reference no authors row fail the migration (PRAGMA foreign_key_check)
-- migrate:rebuild posts
CREATE TABLE posts (
  id        INTEGER PRIMARY KEY,
  author_id INTEGER REFERENCES authors (id) ON DELETE CASCADE,
  title     TEXT NOT NULL
);

CREATE INDEX posts_author_id ON posts (author_id);

-- migrate:down
DROP INDEX posts_author_id;

-- migrate:rebuild posts
CREATE TABLE posts (
  id        INTEGER PRIMARY KEY,
  author_id INTEGER,
  title     TEXT NOT NULL
);
