-- Keep the children's foreign keys naming "products" while it is moved aside.
PRAGMA legacy_alter_table = ON;

ALTER TABLE products RENAME TO products_old;
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    category_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    sku TEXT NOT NULL,
    price_cents INTEGER NOT NULL DEFAULT 0
);
INSERT INTO products (id, category_id, sku) SELECT id, category_id, sku FROM products_old;
DROP TABLE products_old;
