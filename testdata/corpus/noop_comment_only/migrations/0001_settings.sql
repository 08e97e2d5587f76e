-- migrate:up
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- migrate:down
DROP TABLE settings;
