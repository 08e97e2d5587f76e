-- +goose Up
INSERT INTO authors (id, handle) VALUES (1, 'ada'), (2, 'grace; hopper');
INSERT INTO articles (author_id, title, body) VALUES
    (1, 'Notes', 'first; draft'),
    (2, 'Compilers', '-- not a comment');
UPDATE articles SET body = 'second draft' WHERE title = 'Notes';

-- +goose Down
DELETE FROM articles;
DELETE FROM authors;
