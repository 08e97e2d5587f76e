-- hostile: a sqlite_schema row whose SQL does not parse (a database SQLite calls malformed)
-- writable_schema: on
-- expect: refused malformed database schema (junk)
-- expect_extra: refused malformed database schema (junk)
INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql)
VALUES ('table', 'junk', 'junk', 0, 'CREATE TABLE junk (((');
