-- Written by `larder migrate diff` from the schema file: review it before committing.
-- lint L006 made-not-null (warning): column items.price is made NOT NULL (backfilled in the migration; older code writing NULL fails)
-- migrate:up
-- migrate:breaking  (L006 made-not-null: column items.price is made NOT NULL (backfilled in the migration; older code writing NULL fails))
-- migrate:rebuild items
-- migrate:map price = coalesce(price, 0)
CREATE TABLE items (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL,
  price REAL NOT NULL DEFAULT 0
);

-- migrate:down
-- migrate:rebuild items
CREATE TABLE items (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL,
  price TEXT
);
