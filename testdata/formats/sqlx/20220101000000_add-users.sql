-- Add users table
CREATE TABLE IF NOT EXISTS users
(
    id          INTEGER PRIMARY KEY NOT NULL,
    username    TEXT                NOT NULL UNIQUE,
    active      BOOLEAN             NOT NULL DEFAULT 1
);
