-- migrate:up
-- migrate:breaking
CREATE TABLE audit (id TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL);
