package opfs

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/larderdb/larder/wasm/vfscore/crashtest"
)

var update = flag.Bool("update", false, "rewrite testdata/layout-v1 from the current code")

// TestOpensLayoutV1 opens a database directory as the first release wrote
// it (testdata/layout-v1: the LAYOUT marker and the files db, db-journal,
// db-wal, with 12 rows committed only in the WAL when the worker died) and
// checks every row is there: data an older release wrote must open
// unchanged after an upgrade. If the file names or the
// marker change, this fails: bump layoutVersion and migrate instead.
func TestOpensLayoutV1(t *testing.T) {
	dir := filepath.Join("testdata", "layout-v1")
	if *update {
		writeLayoutV1(t, dir)
	}
	marker, err := os.ReadFile(filepath.Join(dir, layoutFile))
	if err != nil {
		t.Fatal(err)
	}
	if fresh, err := checkLayout(marker); fresh || err != nil {
		t.Fatalf("layout marker of the first release: fresh=%v, %v", fresh, err)
	}
	tr := crashtest.NewDiskTrial(rand.New(rand.NewPCG(1, 1)), 0, newVFS)
	defer tr.Close()
	for _, k := range kinds {
		b, err := os.ReadFile(filepath.Join(dir, fileName(k)))
		if err != nil {
			t.Fatal(err)
		}
		tr.Disk().Put("test.db."+k.String(), b)
	}
	conn, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(RecommendedPragmas); err != nil {
		t.Fatal(err)
	}
	stmt, _, err := conn.Prepare("SELECT count(*), sum(length(v)) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	if !stmt.Step() || stmt.ColumnInt64(0) != 12 || stmt.ColumnInt64(1) != 12*1000 {
		t.Errorf("release 1 data: %d rows, %d bytes; want 12 rows, 12000 bytes (%v)", stmt.ColumnInt64(0), stmt.ColumnInt64(1), stmt.Err())
	}
}

func writeLayoutV1(t *testing.T, dir string) {
	tr := crashtest.NewDiskTrial(rand.New(rand.NewPCG(1, 1)), 0, newVFS)
	defer tr.Close()
	conn, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(RecommendedPragmas + "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if err := conn.Exec(fmt.Sprintf("INSERT INTO t(v) VALUES (printf('%%01000d', %d))", i)); err != nil {
			t.Fatal(err)
		}
	}
	tr.Crash() // no checkpoint: the rows stay in the WAL
	conn.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{layoutFile: layoutMarker()}
	for _, k := range kinds {
		files[fileName(k)] = tr.Disk().Durable("test.db." + k.String())
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
