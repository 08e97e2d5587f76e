-- hostile: a trigger the migrations never made rewrites every note the app writes later
-- expect: refused trigger note_rewrite on note is not made by the migrations
-- expect_extra: imported
CREATE TRIGGER note_rewrite AFTER INSERT ON note
BEGIN
  UPDATE note SET body = 'rewritten by an imported trigger' WHERE id = new.id;
END;
