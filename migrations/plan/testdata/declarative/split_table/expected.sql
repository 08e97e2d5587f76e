-- Written by `larder migrate diff` from the schema file: review it before committing.
-- lint L002 dropped-column (warning): column users.street is dropped
-- lint L002 dropped-column (warning): column users.city is dropped
-- migrate:up
-- migrate:breaking  (L002 dropped-column: column users.street is dropped; L002 dropped-column: column users.city is dropped)
CREATE TABLE addresses (
  user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  street  TEXT,
  city    TEXT
);

-- review: this drops data; if it moves to addresses, copy it first, here: INSERT INTO addresses (…) SELECT … FROM …;
ALTER TABLE users DROP COLUMN street;
ALTER TABLE users DROP COLUMN city;

-- migrate:down
-- the down part brings dropped tables and columns back empty
ALTER TABLE users ADD COLUMN street TEXT;
ALTER TABLE users ADD COLUMN city TEXT;

DROP TABLE addresses;
