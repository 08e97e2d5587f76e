-- +goose Up
-- This migration used to add a column that was dropped before release.
-- It stays so the numbering of the deployed databases is unchanged.

-- +goose Down
-- Nothing to undo.
