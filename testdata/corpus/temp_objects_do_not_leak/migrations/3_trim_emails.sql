CREATE TEMP TABLE staging (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO staging SELECT id, trim(email) FROM contacts;
UPDATE contacts SET email = (SELECT s.email FROM staging AS s WHERE s.id = contacts.id)
 WHERE email <> trim(email);
