package opfs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/larderdb/larder/wasm/vfscore/crashtest"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

func TestLayoutMarker(t *testing.T) {
	fresh, err := checkLayout(nil)
	if !fresh || err != nil {
		t.Errorf("empty marker: fresh=%v err=%v, want a fresh directory", fresh, err)
	}
	fresh, err = checkLayout(layoutMarker())
	if fresh || err != nil {
		t.Errorf("own marker %q: fresh=%v err=%v", layoutMarker(), fresh, err)
	}
	// Version 1 as written by the first release: must keep opening.
	if _, err := checkLayout([]byte("larder-opfs 1\n")); err != nil {
		t.Errorf("version 1 marker refused: %v", err)
	}
	for _, bad := range []string{"larder-opfs 2\n", "garbage", "larder-idb 1\n", "larder-opfs \n", "larder-opfs x1\n", "larder-opfs"} {
		if _, err := checkLayout([]byte(bad)); err == nil {
			t.Errorf("marker %q accepted", bad)
		}
	}
}

func TestRegistered(t *testing.T) {
	if vfs.Find(VFSName) == nil {
		t.Fatalf("VFS %q not registered", VFSName)
	}
}

// Outside a browser the VFS is registered but cannot open anything: the
// error says so instead of falling back to something else.
func TestUnavailableNatively(t *testing.T) {
	if Available() {
		t.Fatal("OPFS reported available outside a browser")
	}
	_, err := sqlite3.Open("file:app.db?vfs=opfs")
	if !errors.Is(err, sqlite3.CANTOPEN) {
		t.Errorf("open natively: %v, want SQLITE_CANTOPEN", err)
	}
	if err := Preopen(context.Background(), "app.db"); err == nil {
		t.Error("Preopen natively succeeded")
	}
	if err := Preopen(context.Background(), "a/b"); err == nil {
		t.Error("Preopen accepted a name with a slash")
	}
}

// TestOneFlushPerCommit checks the point of RecommendedPragmas: an
// autocommit insert flushes the WAL once and nothing else (checkpoints
// aside), and never awaits anything (the fake backend is only asked for
// handles once).
func TestOneFlushPerCommit(t *testing.T) {
	tr := crashtest.NewDiskTrial(rand.New(rand.NewPCG(1, 1)), 0, newVFS)
	defer tr.Close()
	conn, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(RecommendedPragmas + "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	d := tr.Disk()
	flushes := func() (db, wal, journal int) {
		return d.File("test.db.db").Flushes(), d.File("test.db.wal").Flushes(), d.File("test.db.journal").Flushes()
	}
	db0, wal0, j0 := flushes()
	const n = 100 // fewer pages than a checkpoint needs
	for i := range n {
		if err := conn.Exec(fmt.Sprintf("INSERT INTO t(v) VALUES ('row %d')", i)); err != nil {
			t.Fatal(err)
		}
	}
	db1, wal1, j1 := flushes()
	if wal1-wal0 != n || db1 != db0 || j1 != j0 {
		t.Errorf("%d inserts flushed the WAL %d times, the database %d, the journal %d; want %d, 0, 0",
			n, wal1-wal0, db1-db0, j1-j0, n)
	}
}

// TestWALGivesSpaceBack: after a big transaction and a checkpoint, the WAL
// is cut back to the journal_size_limit of RecommendedPragmas.
func TestWALGivesSpaceBack(t *testing.T) {
	tr := crashtest.NewDiskTrial(rand.New(rand.NewPCG(1, 1)), 0, newVFS)
	defer tr.Close()
	conn, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(RecommendedPragmas + `CREATE TABLE t(v BLOB);
		INSERT INTO t SELECT randomblob(4000) FROM generate_series(1, 3000);`); err != nil {
		t.Fatal(err)
	}
	// (A passive checkpoint, as the automatic ones are; the next write
	// restarts the WAL from its start.)
	if err := conn.Exec("PRAGMA wal_checkpoint; INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec("PRAGMA wal_checkpoint; INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	size, _ := tr.Disk().File("test.db.wal").Size()
	if size > 4<<20 {
		t.Errorf("WAL still %d bytes after checkpoints, limit is 4 MiB", size)
	}
}

// TestDSNPragmas: the DSN form of the recommended pragmas in the README
// (for database/sql pools) puts the database in WAL mode.
func TestDSNPragmas(t *testing.T) {
	disk := crashtest.NewDisk(nil, 0)
	v, err := newVFS(crashtest.Backend{Disk: disk})
	if err != nil {
		t.Fatal(err)
	}
	name := crashtest.Register("dsn", v)
	defer vfs.Unregister(name)
	conn, err := sqlite3.Open("file:app.db?vfs=" + name + "&_pragma=locking_mode(exclusive)&_pragma=journal_mode(wal)&_pragma=synchronous(full)&_pragma=journal_size_limit(4194304)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	stmt, _, err := conn.Prepare("PRAGMA journal_mode")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	if !stmt.Step() || stmt.ColumnText(0) != "wal" {
		t.Errorf("journal_mode %q, want wal", stmt.ColumnText(0))
	}
}
