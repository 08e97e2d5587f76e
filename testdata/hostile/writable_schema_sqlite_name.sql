-- hostile: a row added to sqlite_schema under a reserved sqlite_ name, pointing at the note table's pages
-- writable_schema: on
-- expect: refused is not one of SQLite's own objects
-- expect_extra: refused is not one of SQLite's own objects
INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql)
SELECT 'table', 'sqlite_shadow', 'sqlite_shadow', rootpage, 'CREATE TABLE sqlite_shadow(id INTEGER PRIMARY KEY, body TEXT)'
  FROM sqlite_schema WHERE name = 'note';
