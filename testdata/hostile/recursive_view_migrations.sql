-- hostile: _migrations is a view over an endless recursive CTE (opening or reading it never ends)
-- base: empty
-- expect: refused _migrations is a view
CREATE TABLE note (
  id   INTEGER PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE VIEW _migrations AS
  WITH RECURSIVE r(version) AS (SELECT 1 UNION ALL SELECT version + 1 FROM r)
  SELECT version, 'init' AS name, '' AS checksum, '2026-01-01T00:00:00.000Z' AS applied_at,
         0 AS duration_ms, 0 AS breaking
  FROM r;
