-- make slug unique and case-insensitive: SQLite needs a new table for a
-- column constraint change
CREATE TABLE projects_tmp (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO projects_tmp (id, slug, created_at)
    SELECT id, slug, created_at FROM projects;
DROP TABLE projects;
ALTER TABLE projects_tmp RENAME TO projects;
