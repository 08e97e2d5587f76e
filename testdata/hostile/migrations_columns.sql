-- hostile: _migrations is a table, but not of the tracking table's shape
-- base: empty
-- expect: refused _migrations has columns
CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT);
INSERT INTO _migrations VALUES (1, 'init');
