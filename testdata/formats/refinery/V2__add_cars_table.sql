CREATE TABLE cars (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER REFERENCES persons(id),
    brand TEXT NOT NULL
);
INSERT INTO persons (id, name, city) VALUES (1, 'Noor', 'Porto');
INSERT INTO cars (owner_id, brand) VALUES (1, 'Fiat'), (1, 'Lada');
