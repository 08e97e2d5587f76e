-- migrate:up
create table tasks (
  id integer primary key,
  project_id integer not null references projects (id) on delete cascade,
  title text not null,
  done integer not null default 0
);
create index tasks_project on tasks (project_id);

insert into projects (id, slug) values (1, 'larder'), (2, 'pantry');
insert into tasks (project_id, title) values (1, 'write docs'), (1, 'ship'), (2, 'plan');

-- migrate:down
drop table tasks;
delete from projects;
