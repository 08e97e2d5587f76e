-- hostile: an expression index whose expression costs milliseconds per row; its entries are right (the costly part is multiplied by 0) but were built from a cheap twin through writable_schema, so making the file is fast
-- rows: 20000
-- writable_schema: on
-- expect: refused index note_bomb on note is not made by the migrations
-- expect_extra: refused did not finish within the time budget
CREATE INDEX note_bomb ON note(length(body));
UPDATE sqlite_schema
   SET sql = 'CREATE INDEX note_bomb ON note(length(body) + 0 * length(hex(zeroblob(2000000 + id))))'
 WHERE name = 'note_bomb';
