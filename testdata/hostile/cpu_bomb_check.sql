-- hostile: a CHECK constraint that costs milliseconds per row, slipped into the note table's SQL through writable_schema
-- rows: 20000
-- writable_schema: on
-- expect: refused table note differs from what the migrations make
-- expect_extra: refused did not finish within the time budget
UPDATE sqlite_schema
   SET sql = 'CREATE TABLE note (
  id   INTEGER PRIMARY KEY,
  body TEXT NOT NULL CHECK (length(hex(zeroblob(2000000 + id))) > 0)
)'
 WHERE name = 'note';
