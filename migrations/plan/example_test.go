package plan_test

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations/plan"
)

// Plan the migration from the schema the migrations produce to the one
// schema.sql creates, and render it as the next migration file.
func ExampleDiff() {
	ctx := context.Background()
	from, _ := plan.FromSQL(ctx, "old.sql", `
CREATE TABLE notes (id INTEGER PRIMARY KEY, author TEXT, body TEXT);`)
	to, _ := plan.FromSQL(ctx, "schema.sql", `
CREATE TABLE notes (id INTEGER PRIMARY KEY, author_name TEXT, body TEXT NOT NULL DEFAULT '');
CREATE INDEX notes_author_name ON notes (author_name);`)
	p, err := plan.Diff(ctx, from, to, plan.Options{
		Renames: []plan.Rename{{Table: "notes", Old: "author", New: "author_name"}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(p.Render())
	// Output:
	// -- Written by `larder migrate diff` from the schema file: review it before committing.
	// -- lint L004 renamed-column (warning): column notes.author is renamed to author_name
	// -- lint L006 made-not-null (warning): column notes.body is made NOT NULL (backfilled in the migration; older code writing NULL fails)
	// -- migrate:up
	// -- migrate:breaking  (L004 renamed-column: column notes.author is renamed to author_name; L006 made-not-null: column notes.body is made NOT NULL (backfilled in the migration; older code writing NULL fails))
	// ALTER TABLE notes RENAME COLUMN author TO author_name;
	//
	// -- migrate:rebuild notes
	// -- migrate:map body = coalesce(body, '')
	// CREATE TABLE notes (id INTEGER PRIMARY KEY, author_name TEXT, body TEXT NOT NULL DEFAULT '');
	//
	// CREATE INDEX notes_author_name ON notes (author_name);
	//
	// -- migrate:down
	// ALTER TABLE notes RENAME COLUMN author_name TO author;
	//
	// DROP INDEX notes_author_name;
	//
	// -- migrate:rebuild notes
	// CREATE TABLE notes (id INTEGER PRIMARY KEY, author TEXT, body TEXT);
}
