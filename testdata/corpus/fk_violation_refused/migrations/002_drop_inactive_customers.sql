-- migrate:up
-- rebuild without the "active" flag, keeping only active customers
CREATE TABLE customers_v2 (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL
);
INSERT INTO customers_v2 (id, name) SELECT id, name FROM customers WHERE active = 1;
DROP TABLE customers;
ALTER TABLE customers_v2 RENAME TO customers;
-- migrate:down
