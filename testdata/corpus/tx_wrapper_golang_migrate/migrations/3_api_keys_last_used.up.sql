BEGIN TRANSACTION;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
-- A trigger body has its own BEGIN … END: it is not transaction control.
CREATE TRIGGER api_keys_touch AFTER UPDATE OF name ON api_keys
BEGIN
  UPDATE api_keys SET last_used_at = 0 WHERE id = NEW.id;
END;
END TRANSACTION;
