-- Header comments before the first marker are not part of the migration.
-- migrate:up
update projects set archived = 1 where slug = 'pantry';
-- migrate:breaking

-- migrate:down
update projects set archived = 0 where slug = 'pantry';
