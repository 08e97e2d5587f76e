package idb

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/layout-v1.json from the current code")

// storeImage is an IndexedDB database of layout version 1 as JSON: the
// "files" object store (file → size) and the "blocks" object store
// ([file, index] → 4096 bytes).
type storeImage struct {
	Version int                          `json:"version"`
	Files   map[string]int64             `json:"files"`
	Blocks  map[string]map[string][]byte `json:"blocks"`
}

// TestOpensLayoutV1 opens the blocks of a database as the first release
// stored them (testdata/layout-v1.json: 12 rows of 1000 bytes) and checks
// every row: data written by an older release must open unchanged (a
// storage layout misread after an upgrade loses it). If the block size or
// the file keys change, this fails: bump layoutVersion and migrate in the
// upgradeneeded handler instead.
func TestOpensLayoutV1(t *testing.T) {
	path := filepath.Join("testdata", "layout-v1.json")
	if *update {
		writeLayoutV1(t, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var img storeImage
	if err := json.Unmarshal(b, &img); err != nil {
		t.Fatal(err)
	}
	if img.Version != layoutVersion {
		t.Fatalf("fixture of layout %d, code reads %d", img.Version, layoutVersion)
	}
	tr := newStoreTrial(rand.New(rand.NewPCG(1, 1)), 0).(*storeTrial)
	defer tr.Close()
	tr.st.sizes = img.Files
	for file, blocks := range img.Blocks {
		tr.st.blocks[file] = map[int64][]byte{}
		for k, v := range blocks {
			i, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			tr.st.blocks[file][i] = v
		}
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

func writeLayoutV1(t *testing.T, path string) {
	tr := newStoreTrial(rand.New(rand.NewPCG(1, 1)), 0).(*storeTrial)
	defer tr.Close()
	conn, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(RecommendedPragmas + "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if err := conn.Exec(fmt.Sprintf("INSERT INTO t(v) VALUES (printf('%%01000d', %d))", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Exec("PRAGMA cache_size=2; BEGIN; INSERT INTO t(v) SELECT printf('%01000d', value) FROM generate_series(8, 11); COMMIT"); err != nil {
		// generate_series may be missing: insert one by one.
		if err := conn.Exec("ROLLBACK"); err != nil {
			t.Log(err)
		}
		for i := 8; i < 12; i++ {
			if err := conn.Exec(fmt.Sprintf("INSERT INTO t(v) VALUES (printf('%%01000d', %d))", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	img := storeImage{Version: layoutVersion, Files: tr.st.sizes, Blocks: map[string]map[string][]byte{}}
	for file, blocks := range tr.st.blocks {
		img.Blocks[file] = map[string][]byte{}
		for i, b := range blocks {
			img.Blocks[file][strconv.FormatInt(i, 10)] = b
		}
	}
	b, err := json.MarshalIndent(img, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
