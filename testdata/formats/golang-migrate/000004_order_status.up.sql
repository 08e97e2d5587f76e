ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'placed';
UPDATE orders SET status = 'shipped' WHERE placed_at < '2024-02-01';
