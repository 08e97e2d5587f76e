-- migrate:up
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL DEFAULT 'USER'
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  creator_id INTEGER NOT NULL REFERENCES users (id),
  content TEXT NOT NULL DEFAULT ''
);

-- migrate:down
DROP TABLE notes;
DROP TABLE sessions;
DROP TABLE users;
