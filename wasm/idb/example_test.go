package idb_test

import (
	"context"
	"log"

	"github.com/larderdb/larder/wasm/idb"
	"github.com/ncruces/go-sqlite3"
)

// Open an IndexedDB database from Go, e.g. in a service worker or an MV3
// extension background. (Outside a browser the VFS reports
// SQLITE_CANTOPEN, so this example is compiled, not run.)
func Example() {
	ctx := context.Background()
	if err := idb.Preopen(ctx, "app.db"); err != nil {
		log.Fatal(err)
	}
	defer idb.Release("app.db")

	db, err := sqlite3.Open("file:app.db?vfs=idb")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(idb.RecommendedPragmas); err != nil {
		log.Fatal(err)
	}
}
