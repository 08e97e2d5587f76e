CREATE TABLE items (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL,
  price TEXT
);
CREATE INDEX items_name ON items (name);
