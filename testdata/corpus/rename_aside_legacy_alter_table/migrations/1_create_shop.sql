CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    category_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    sku TEXT NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    qty INTEGER NOT NULL
);
