BEGIN;
DROP TRIGGER api_keys_touch;
ALTER TABLE api_keys DROP COLUMN last_used_at;
COMMIT;
