package vfscore_test

import (
	"fmt"
	"log"

	"github.com/larderdb/larder/wasm/vfscore"
	"github.com/larderdb/larder/wasm/vfscore/crashtest"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

// A VFS core over a Backend, registered with ncruces and used by real
// SQLite. The browser packages do the same with OPFS or IndexedDB handles;
// this one uses the fake files of the crash tests.
func Example() {
	disk := crashtest.NewDisk(nil, 0)
	core, err := vfscore.New(crashtest.Backend{Disk: disk}, vfscore.Options{Name: "example"})
	if err != nil {
		log.Fatal(err)
	}
	vfs.Register("example", core)
	defer vfs.Unregister("example")

	db, err := sqlite3.Open("file:app.db?vfs=example")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(`PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;
		CREATE TABLE note(body TEXT); INSERT INTO note VALUES ('hello')`); err != nil {
		log.Fatal(err)
	}
	stmt, _, err := db.Prepare("SELECT body FROM note")
	if err != nil {
		log.Fatal(err)
	}
	defer stmt.Close()
	for stmt.Step() {
		fmt.Println(stmt.ColumnText(0))
	}
	wal, _ := disk.File("app.db.wal").Size()
	fmt.Println("WAL in use:", wal > 0)
	// Output:
	// hello
	// WAL in use: true
}
