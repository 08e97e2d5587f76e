-- migrate:up
CREATE TABLE authors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL
);

CREATE TABLE books (
  id INTEGER PRIMARY KEY,
  author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
  title TEXT NOT NULL
);
CREATE INDEX books_author ON books (author_id);

CREATE TABLE reviews (
  id INTEGER PRIMARY KEY,
  book_id INTEGER REFERENCES books (id) ON DELETE SET NULL,
  stars INTEGER NOT NULL
);

-- migrate:down
DROP TABLE reviews;
DROP TABLE books;
DROP TABLE authors;
