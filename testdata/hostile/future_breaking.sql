-- hostile: _migrations claims a newer breaking migration, which would make every later open fail with LARDER_OUTDATED
-- expect: refused written by newer code
-- expect_extra: refused written by newer code
INSERT INTO _migrations (version, name, checksum, applied_at, duration_ms, breaking)
VALUES (9999, 'drop_everything', 'b6d81b360a5672d80c27430f39153e2c', '2030-01-01T00:00:00.000Z', 1, 1);
