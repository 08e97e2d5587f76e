INSERT INTO customers (email, name) VALUES ('a@example.com', 'Ann'), ('b@example.com', 'Bo');
INSERT INTO orders (customer_id, total_cents, placed_at) VALUES
    (1, 1250, '2024-01-02'),
    (1, 990, '2024-02-03'),
    (2, 4000, '2024-02-04');
