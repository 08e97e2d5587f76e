-- migrate:up
CREATE TABLE items (
  id       INTEGER PRIMARY KEY,
  url      TEXT    NOT NULL UNIQUE,
  title    TEXT    NOT NULL DEFAULT '',
  saved_at INTEGER NOT NULL            -- milliseconds since the Unix epoch
) STRICT;
CREATE INDEX items_saved_at ON items (saved_at DESC);

-- migrate:down
DROP TABLE items;
