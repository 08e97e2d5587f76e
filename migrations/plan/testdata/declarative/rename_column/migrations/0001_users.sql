CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
CREATE INDEX users_name ON users (name);
CREATE VIEW user_names AS SELECT id, name FROM users;
