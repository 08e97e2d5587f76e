package adopt_test

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/adopt"
	"github.com/larderdb/larder/migrations/sqlite"
)

// A database dbmate migrated to version 1: Adopt records it in
// _migrations, and Larder's up applies only version 2.
func Example() {
	ctx := context.Background()
	conn, _ := sqlite.Open(":memory:")
	defer conn.Close()
	conn.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
		CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
		INSERT INTO schema_migrations VALUES ('1');`)

	one, _ := migrations.Parse("001_notes.sql", []byte("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"))
	two, _ := migrations.Parse("002_tags.sql", []byte("CREATE TABLE tags (id INTEGER PRIMARY KEY);"))
	migs := []*migrations.Migration{one, two}

	plan, err := adopt.Adopt(ctx, conn, migs, adopt.Options{From: adopt.Dbmate})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("recorded:", plan.Write[0].Source, "pending:", plan.Pending)

	res, _ := sqlite.Migrate(ctx, conn, migs, migrations.Options{})
	fmt.Println("up applied:", res[0].Migration.Source)
	// Output:
	// recorded: 001_notes.sql pending: [002_tags.sql]
	// up applied: 002_tags.sql
}
