DROP INDEX IF EXISTS idx_orders_customer;
DROP TABLE IF EXISTS orders;
