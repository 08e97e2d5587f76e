package lint_test

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/lint"
)

func ExampleLint() {
	files := []struct{ name, body string }{
		{"0001_init.sql", `CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT, color TEXT);`},
		{"0002_drop_color.sql", `ALTER TABLE note DROP COLUMN color;`},
		{"0003_unique_body.sql", "-- migrate:breaking\nCREATE UNIQUE INDEX note_body ON note(body);"},
	}
	var migs []*migrations.Migration
	for _, f := range files {
		m, err := migrations.Parse(f.name, []byte(f.body))
		if err != nil {
			panic(err)
		}
		migs = append(migs, m)
	}
	findings, err := lint.Lint(context.Background(), migs)
	if err != nil {
		panic(err)
	}
	for _, f := range findings {
		fmt.Printf("%s %s %s: %s\n", f.Migration, f.Code, f.Severity, f.Message)
	}
	fmt.Println("fails CI:", lint.HasErrors(findings))
	// Output:
	// 0002_drop_color L002 warning: column note.color is dropped
	// 0002_drop_color L010 error: incompatible with code written for the schema before it (L002) but not marked -- migrate:breaking
	// 0003_unique_body L007 warning: note_body on note(body), a table that existed before: existing duplicates make the migration fail
	// fails CI: true
}

// Check with Options: lint for D1 as well, acknowledge a finding of a
// migration that is already applied (its file must not change), and skip
// the migrations an earlier release shipped.
func ExampleCheck() {
	files := []struct{ name, body string }{
		{"0001_init.sql", `CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author(id) ON DELETE CASCADE, title TEXT);`},
		{"0002_author_bio.sql", `PRAGMA foreign_keys = OFF;
CREATE TABLE author_new (id INTEGER PRIMARY KEY, name TEXT, bio TEXT);
INSERT INTO author_new (id, name) SELECT id, name FROM author;
DROP TABLE author;
ALTER TABLE author_new RENAME TO author;`},
		{"0003_unique_title.sql", `CREATE UNIQUE INDEX book_title ON book(title, id);`},
		{"0004_rebuild_author.sql", "-- migrate:rebuild author\nCREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT CHECK (length(name) < 200), bio TEXT);"},
	}
	var migs []*migrations.Migration
	for _, f := range files {
		m, err := migrations.Parse(f.name, []byte(f.body))
		if err != nil {
			panic(err)
		}
		migs = append(migs, m)
	}
	targets, err := lint.ParseTargets("native,browser", "d1")
	if err != nil {
		panic(err)
	}
	ack, err := lint.ParseIgnore("L015:0002_author_bio.sql")
	if err != nil {
		panic(err)
	}
	rep, err := lint.Check(context.Background(), migs, lint.Options{Targets: targets, Ignore: []lint.Ignore{ack}})
	if err != nil {
		panic(err)
	}
	fmt.Println("targets:", rep.Targets, "checked:", rep.Checked, "ignored:", rep.Ignored)
	for _, f := range rep.Findings {
		fmt.Printf("%s %s %s %s\n", f.Migration, f.Part, f.Code, f.Severity)
	}

	rep, err = lint.Check(context.Background(), migs, lint.Options{Since: 3})
	if err != nil {
		panic(err)
	}
	fmt.Println("since 3, native and browser:", len(rep.Findings), "findings,", rep.Checked, "checked")
	// Output:
	// targets: [native browser d1] checked: 4 ignored: 1
	// 0002_author_bio up L009 warning
	// 0002_author_bio up L017 error
	// 0004_rebuild_author up L014 error
	// since 3, native and browser: 0 findings, 1 checked
}
