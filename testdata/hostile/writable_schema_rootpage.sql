-- hostile: sqlite_schema lies about where the tag table lives: its rootpage is the note table's (same SQL as the migrations make, so only the b-tree check sees it)
-- writable_schema: on
-- expect: refused integrity_check
-- expect_extra: refused integrity_check
UPDATE sqlite_schema
   SET rootpage = (SELECT rootpage FROM sqlite_schema WHERE name = 'note')
 WHERE name = 'tag';
