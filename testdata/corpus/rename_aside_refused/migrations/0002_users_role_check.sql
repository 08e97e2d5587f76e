-- migrate:up
-- move the old table aside, create the new shape, copy, drop the old one
ALTER TABLE users RENAME TO _users_old;

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL DEFAULT 'USER' CHECK (role IN ('HOST', 'ADMIN', 'USER'))
);

INSERT INTO users (id, username, role)
SELECT id, username, role FROM _users_old;

DROP TABLE _users_old;

-- migrate:down
