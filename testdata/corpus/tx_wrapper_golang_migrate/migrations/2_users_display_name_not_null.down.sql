PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE users_old (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT
);
INSERT INTO users_old SELECT id, username, display_name FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
COMMIT TRANSACTION;
PRAGMA foreign_keys=ON;
