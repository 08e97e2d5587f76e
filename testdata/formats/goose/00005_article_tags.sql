-- +goose Up
-- +goose StatementBegin
CREATE TABLE tags (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (article_id, tag)
) WITHOUT ROWID;
-- +goose StatementEnd
INSERT INTO tags SELECT id, 'imported' FROM articles;

-- +goose Down
DROP TABLE tags;
