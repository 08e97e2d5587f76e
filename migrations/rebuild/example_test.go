package rebuild_test

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/rebuild"
	"github.com/larderdb/larder/migrations/sqlite"
)

// A Go migration rebuilds topics in place: author becomes author_name and
// two columns with defaults are added. The comments that reference topics
// with ON DELETE CASCADE keep their rows.
func ExampleTable() {
	ctx := context.Background()
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	v1, _ := migrations.Parse("0001_topics.sql", []byte(`
CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author TEXT);
CREATE TABLE comments (id INTEGER PRIMARY KEY, topic_id INTEGER REFERENCES topics(id) ON DELETE CASCADE);
INSERT INTO topics VALUES (1, 'Hello', 'ann');
INSERT INTO comments (topic_id) VALUES (1), (1);`))
	v2 := sqlite.Go(2, "topics_v2", func(ctx context.Context, tx *sqlite.Tx) error {
		return rebuild.Table(ctx, tx.Conn(), rebuild.Spec{
			Table: "topics",
			Definition: `CREATE TABLE topics (
				id INTEGER PRIMARY KEY,
				title TEXT NOT NULL,
				author_name TEXT,
				views INTEGER NOT NULL DEFAULT 0,
				pinned INTEGER NOT NULL DEFAULT 0)`,
			Columns: map[string]string{"author_name": "author"},
		})
	}, nil)
	v2.NoForeignKeys = true // foreign keys off outside the transaction

	if _, err := sqlite.Migrate(ctx, conn, []*migrations.Migration{v1, v2}, migrations.Options{}); err != nil {
		panic(err)
	}
	stmt, _, _ := conn.Prepare(`SELECT id, title, author_name, views, pinned, (SELECT count(*) FROM comments) FROM topics`)
	defer stmt.Close()
	for stmt.Step() {
		fmt.Println(stmt.ColumnInt(0), stmt.ColumnText(1), stmt.ColumnText(2), stmt.ColumnInt(3), stmt.ColumnInt(4), stmt.ColumnInt(5))
	}
	// Output:
	// 1 Hello ann 0 0 2
}
