-- migrate:up
create table projects (
  id integer primary key,
  slug text not null unique,
  archived integer not null default 0
);

-- migrate:down
drop table projects;
