-- migrate:up
CREATE TABLE items (
  id    TEXT PRIMARY KEY NOT NULL,
  owner TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  n     INTEGER,
  r     REAL,
  data  BLOB
);
CREATE TABLE lists (
  id    TEXT PRIMARY KEY NOT NULL,
  owner TEXT NOT NULL,
  name  TEXT NOT NULL DEFAULT ''
);
-- Who else may read and write a list; not synced (the server manages it).
CREATE TABLE list_members (
  list_id TEXT NOT NULL,
  member  TEXT NOT NULL,
  PRIMARY KEY (list_id, member)
);
CREATE TABLE list_items (
  id      TEXT PRIMARY KEY NOT NULL,
  list_id TEXT NOT NULL,
  body    TEXT NOT NULL DEFAULT ''
);
-- Local only: an integer key is fine for a table that does not sync.
CREATE TABLE drafts (id INTEGER PRIMARY KEY, body TEXT);
