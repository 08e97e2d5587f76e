-- hostile: the tag table is replaced by a view of the same name, so the app's writes to it fail
-- expect: refused tag is a view where the migrations make a table
-- expect_extra: imported
DROP TABLE tag;
CREATE VIEW tag AS SELECT id AS note_id, body AS name FROM note;
