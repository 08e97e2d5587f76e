-- migrate:up
-- Reserved: the index this added was moved to 20230111093000.

-- migrate:down
