-- goose switched this project to timestamp versions (goose fix undoes it).
-- +goose Up
CREATE VIEW article_summary AS
    SELECT a.handle, count(*) AS articles, sum(x.revisions) AS revisions
    FROM authors a JOIN articles x ON x.author_id = a.id
    GROUP BY a.handle;

-- +goose Down
DROP VIEW article_summary;
