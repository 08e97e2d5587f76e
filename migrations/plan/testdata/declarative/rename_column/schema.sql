CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, email TEXT UNIQUE);
CREATE INDEX users_name ON users (full_name);
CREATE VIEW user_names AS SELECT id, full_name FROM users;
