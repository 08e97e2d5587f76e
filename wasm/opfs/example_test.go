package opfs_test

import (
	"context"
	"log"

	"github.com/larderdb/larder/wasm/opfs"
	"github.com/ncruces/go-sqlite3"
)

// Open an OPFS database from Go in a dedicated worker. (Outside a browser
// the VFS is registered but reports SQLITE_CANTOPEN, so this example is
// compiled, not run.)
func Example() {
	ctx := context.Background()
	if err := opfs.Preopen(ctx, "app.db"); err != nil {
		log.Fatal(err)
	}
	defer opfs.Release("app.db")

	db, err := sqlite3.Open("file:app.db?vfs=opfs")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(opfs.RecommendedPragmas); err != nil {
		log.Fatal(err)
	}
	if err := db.Exec("CREATE TABLE IF NOT EXISTS note(id INTEGER PRIMARY KEY, body TEXT)"); err != nil {
		log.Fatal(err)
	}
}
