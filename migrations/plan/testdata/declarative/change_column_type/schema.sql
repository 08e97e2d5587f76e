-- price was text; it becomes a number that is never NULL.
CREATE TABLE items (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL,
  price REAL NOT NULL DEFAULT 0
);
CREATE INDEX items_name ON items (name);
