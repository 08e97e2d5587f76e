-- +goose Up
CREATE TABLE articles (
    id         INTEGER PRIMARY KEY,
    author_id  INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    revisions  INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT
);
CREATE INDEX articles_author ON articles(author_id);

-- Each edit bumps the revision counter; the trigger body has semicolons,
-- so goose needs it in a statement block.
-- +goose StatementBegin
CREATE TRIGGER articles_revise AFTER UPDATE OF body ON articles
BEGIN
    UPDATE articles SET revisions = revisions + 1 WHERE id = NEW.id;
    UPDATE articles SET updated_at = '2023-01-01' WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TRIGGER articles_revise;
-- +goose StatementEnd
DROP TABLE articles;
