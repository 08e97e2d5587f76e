-- migrate:up
-- this fix must only touch labels in exactly this case
PRAGMA case_sensitive_like = ON;
PRAGMA recursive_triggers = ON;
UPDATE tags SET label = 'Go' WHERE label LIKE 'GO';
-- migrate:down
