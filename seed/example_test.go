package seed_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/seed"
)

func Example() {
	ctx := context.Background()
	files := fstest.MapFS{
		"migrations/0001_users.sql":   {Data: []byte("CREATE TABLE users (name TEXT PRIMARY KEY);")},
		"seeds/0001_admin.sql":        {Data: []byte("INSERT INTO users VALUES ('admin');")},
		"seeds/dev/0001_demo.sql":     {Data: []byte("INSERT INTO users VALUES ('alice'), ('bob');")},
		"seeds/test/0001_fixture.sql": {Data: []byte("INSERT INTO users VALUES ('fixture');")},
	}
	migs, _ := migrations.Load(files, "migrations")
	seeds, _ := seed.Load(files, "seeds", "dev") // common seeds, then seeds/dev
	conn, _ := sqlite.Open(":memory:")
	defer conn.Close()

	_, err := seed.Apply(ctx, conn, seeds, seed.Options{Migrations: migs})
	fmt.Println(err)

	sqlite.Migrate(ctx, conn, migs, migrations.Options{})
	for range 2 { // the second run finds everything applied
		res, err := seed.Apply(ctx, conn, seeds, seed.Options{Migrations: migs})
		fmt.Println(len(res), "seeds applied", err)
		for _, r := range res {
			fmt.Println(" ", r.Seed.Label())
		}
	}
	// Output:
	// seed: database migrations are not current (the database was never migrated): 0001_users.sql pending; migrate the database first, nothing was seeded
	// 2 seeds applied <nil>
	//   0001_admin
	//   dev/0001_demo
	// 0 seeds applied <nil>
}
