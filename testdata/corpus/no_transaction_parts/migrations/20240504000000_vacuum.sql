-- migrate:up transaction:false
-- give the pruned pages back to the file system
VACUUM;
-- migrate:down
