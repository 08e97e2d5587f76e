package plan_test

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations/plan"
)

func ExampleDiff() {
	ctx := context.Background()
	from, _ := plan.FromSQL(ctx, "old.sql", `
CREATE TABLE topics_v1 (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author TEXT);`)
	to, _ := plan.FromSQL(ctx, "schema.sql", `
CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author_name TEXT,
  pinned INTEGER NOT NULL DEFAULT 0);`)
	p, err := plan.Diff(ctx, from, to, plan.Options{Renames: []plan.Rename{
		{Old: "topics_v1", New: "topics"},
		{Table: "topics", Old: "author", New: "author_name"},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Print(p.Render())
	// Output:
}
