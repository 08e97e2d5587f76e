-- hostile: _migrations claims a newer non-breaking migration this code cannot know the schema of
-- expect: refused written by newer code
-- expect_extra: imported
INSERT INTO _migrations (version, name, checksum, applied_at, duration_ms, breaking)
VALUES (9999, 'add_color', 'b6d81b360a5672d80c27430f39153e2c', '2030-01-01T00:00:00.000Z', 1, 0);
ALTER TABLE note ADD COLUMN color TEXT;
