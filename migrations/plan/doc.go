// Package plan turns one schema into another: it plans the steps between
// the schema a set of migrations produces and a canonical schema file
// (schema.sql, the thing people edit), and renders them as the next
// migration file. It is what `larder migrate diff`, `larder schema apply`
// and `larder schema check` run.
//
// Both schemas are read by SQLite itself (package migrations/schema): a
// schema file is executed in an in-memory database, never parsed by hand.
// [Diff] then works on a scratch in-memory copy of the old schema and
// carries out every step it plans there as it goes, so that each step is
// known to apply to the state the steps before it leave:
//
//  1. renames asked for ([Rename]; never guessed): ALTER TABLE … RENAME TO
//     and RENAME COLUMN, which also rewrite the indexes, triggers, views
//     and foreign keys that name them;
//  2. views, triggers and indexes that are gone or changed are dropped;
//  3. new tables;
//  4. columns: ALTER TABLE ADD COLUMN and DROP COLUMN where SQLite allows
//     it (https://sqlite.org/lang_altertable.html: an added column has no
//     PRIMARY KEY or UNIQUE constraint, a literal default (no expression, no CURRENT_TIMESTAMP), a non-NULL
//     default when NOT NULL, a NULL default when it references another
//     table, and is not a STORED generated column; a dropped column is not
//     in a key, an index, a constraint or a generated column), else a
//     table rebuild: the "-- migrate:rebuild" directive with
//     "-- migrate:map" lines (package migrations/rebuild), for type,
//     constraint, NOT NULL, default, foreign key, primary key, column
//     order, STRICT and WITHOUT ROWID changes. A column made NOT NULL that
//     has a DEFAULT gets "-- migrate:map c = coalesce(c, DEFAULT)" so
//     existing NULLs do not fail the copy;
//  5. tables that are gone are dropped (children before parents), once
//     the tables that stay no longer reference them;
//  6. indexes, views and triggers that are new or changed are created.
//
// The result must equal the target (the same comparison [Check] uses);
// otherwise Diff fails rather than write a migration that does not get
// there. The down part is planned the same way in the other direction
// (renames reversed); a dropped table or column comes back empty.
//
// [Plan.Render] writes the migration file. Before that, Diff lints it
// (package migrations/lint) on top of the old schema: when lint finds an
// incompatible change (L001–L006) the file is marked "-- migrate:breaking"
// with a comment naming the finding, and every finding is listed in the
// file's header. Dropping a table or a column (and re-creating a virtual
// table, which empties it) is destructive: Diff refuses it with
// [ErrDestructive] unless [Options.AllowDestructive] is set.
//
// Objects that SQLite makes itself are left out: tables named sqlite_*,
// automatic indexes (they are part of their table), the shadow tables of
// virtual tables (FTS5's notes_fts_data, …), and Larder's own tables
// (_migrations, and _seeds from package seed). Virtual table modules a
// schema uses must be registered on every connection
// (sqlite3.AutoExtension), as the larder CLI does for FTS5.
package plan
