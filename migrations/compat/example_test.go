package compat_test

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/compat"
)

func ExampleCheck() {
	m1, _ := migrations.Parse("0001_init.sql", []byte(`CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT, color TEXT);`))
	m2, _ := migrations.Parse("0002_drop_color.sql", []byte(`ALTER TABLE note DROP COLUMN color;`))
	// The queries the running release uses.
	queries, err := compat.ParseQueries("queries.sql", []byte(`
-- name: AddNote
INSERT INTO note (body) VALUES (:body);

-- name: Colored
SELECT id FROM note WHERE color = :color;
`))
	if err != nil {
		panic(err)
	}
	rep, err := compat.Check(context.Background(), []*migrations.Migration{m1, m2}, queries, compat.Options{Since: 1})
	if err != nil {
		panic(err)
	}
	for _, p := range rep.Broken {
		fmt.Println(p)
	}
	fmt.Println("ok:", rep.OK())
	// Output:
	// Colored (queries.sql:5): 0002_drop_color: prepare: sqlite3: SQL logic error: no such column: color
	// ok: false
}
