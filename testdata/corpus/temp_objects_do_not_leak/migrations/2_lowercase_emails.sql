-- stage the new values in a temp table; log each change through a temp trigger
CREATE TEMP TABLE staging AS SELECT id, lower(email) AS email FROM contacts;
CREATE TEMP TRIGGER log_email AFTER UPDATE OF email ON contacts
BEGIN
  INSERT INTO audit VALUES (new.id, 'email lowercased');
END;
UPDATE contacts SET email = (SELECT s.email FROM staging AS s WHERE s.id = contacts.id)
 WHERE email <> lower(email);
