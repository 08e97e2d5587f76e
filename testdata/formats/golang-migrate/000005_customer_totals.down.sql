DROP TRIGGER orders_total;
DROP TABLE customer_totals;
