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
