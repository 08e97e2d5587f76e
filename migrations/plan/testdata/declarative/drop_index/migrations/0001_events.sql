CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX events_kind ON events (kind);
CREATE INDEX events_at ON events (at);
