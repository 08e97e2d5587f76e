CREATE TABLE customer_totals (customer_id INTEGER PRIMARY KEY, total_cents INTEGER NOT NULL);
INSERT INTO customer_totals SELECT customer_id, sum(total_cents) FROM orders GROUP BY customer_id;
CREATE TRIGGER orders_total AFTER INSERT ON orders BEGIN
    INSERT INTO customer_totals VALUES (NEW.customer_id, NEW.total_cents)
        ON CONFLICT (customer_id) DO UPDATE SET total_cents = total_cents + excluded.total_cents;
END;
