-- +goose Up
CREATE TABLE authors (
    id         INTEGER PRIMARY KEY,
    handle     TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE authors;
