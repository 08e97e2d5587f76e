-- The Val Town pattern, without abandoning the data: the table loses its
-- version suffix, author becomes author_name, and topics can be pinned.
CREATE TABLE topics (
  id          INTEGER PRIMARY KEY,
  title       TEXT NOT NULL,
  author_name TEXT NOT NULL,
  votes       INTEGER NOT NULL DEFAULT 0,
  pinned      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX topics_v1_author ON topics (author_name);
