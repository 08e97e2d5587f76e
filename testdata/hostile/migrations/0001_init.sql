CREATE TABLE note (
  id   INTEGER PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE INDEX note_body ON note(body);
