package sqlite_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// Migrate a database at start-up from migrations embedded in the program
// (an embed.FS works the same as this MapFS).
func Example() {
	files := fstest.MapFS{
		"migrations/0001_init.sql": {Data: []byte(`-- migrate:up
CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
-- migrate:down
DROP TABLE note;
`)},
		"migrations/0002_tags.sql": {Data: []byte(`-- migrate:up
ALTER TABLE note ADD COLUMN tags TEXT NOT NULL DEFAULT '';
`)},
	}
	migs, err := migrations.Load(files, "migrations")
	if err != nil {
		panic(err)
	}
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	res, err := sqlite.Migrate(context.Background(), conn, migs, migrations.Options{})
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		fmt.Println("applied", r.Migration.Label())
	}
	// Output:
	// applied 0001_init
	// applied 0002_tags
}

// Status, Down and Go-function migrations through a Provider.
func ExampleGo() {
	ctx := context.Background()
	conn, _ := sqlite.Open(":memory:")
	defer conn.Close()

	initial, _ := migrations.Parse("0001_init.sql", []byte("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);"))
	backfill := sqlite.Go(2, "welcome_note", func(ctx context.Context, tx *sqlite.Tx) error {
		return tx.Exec(ctx, "INSERT INTO note (body) VALUES (?)", "Welcome to Larder")
	}, func(ctx context.Context, tx *sqlite.Tx) error {
		return tx.Exec(ctx, "DELETE FROM note WHERE body = ?", "Welcome to Larder")
	})

	p, err := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{initial, backfill}, migrations.Options{})
	if err != nil {
		panic(err)
	}
	p.Up(ctx, 0)
	p.Down(ctx, migrations.DownTarget{Steps: 1})
	st, _ := p.Status(ctx)
	for _, s := range st {
		fmt.Println(s.Version, s.Name, s.State)
	}
	// Output:
	// 1 init applied
	// 2 welcome_note pending
}
