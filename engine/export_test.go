package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/larderdb/larder/migrations"
)

// fileStorage keeps databases in files of a directory, in WAL mode with
// exclusive locking, as OPFS does: the export's checkpoint-and-read path
// with real files and a real WAL.
type fileStorage struct{ dir string }

func (fileStorage) Available() bool                       { return true }
func (fileStorage) Preopen(context.Context, string) error { return nil }
func (s fileStorage) URI(name string) string              { return "file:" + filepath.Join(s.dir, name) }
func (fileStorage) Pragmas() []string {
	return []string{"PRAGMA locking_mode=EXCLUSIVE", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}
}
func (fileStorage) Release(string) error { return nil }
func (s fileStorage) Delete(_ context.Context, n string) error {
	return os.Remove(filepath.Join(s.dir, n))
}

func TestExportReadsCheckpointedFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, err := NewHost(map[string]Storage{"file": fileStorage{dir}}, []string{"file"})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := h.Open(ctx, OpenOptions{Name: "w.db", Storage: "file", Migrations: []*migrations.Migration{mig(1, "t", "CREATE TABLE t(x TEXT)")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, 0, "WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c WHERE v < 3000) INSERT INTO t SELECT printf('row %d', v) FROM c", Params{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "w.db-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL to checkpoint before the export (%v): the test tests nothing", err)
	}
	// The file itself is read, not a backup's copy.
	raw, err := d.readFile()
	if err != nil || raw == nil {
		t.Fatalf("readFile: %v, %d bytes: the export would take the backup path", err, len(raw))
	}
	img, err := d.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(img) != len(raw) {
		t.Errorf("export %d bytes, file %d", len(img), len(raw))
	}
	if img[18] != 1 || img[19] != 1 {
		t.Errorf("header bytes 18-19 = %d %d, want a rollback-journal file (1 1)", img[18], img[19])
	}
	if fi, _ := os.Stat(filepath.Join(dir, "w.db-wal")); fi != nil && fi.Size() != 0 {
		t.Errorf("WAL is %d bytes after the export's checkpoint", fi.Size())
	}
	// The image alone (no -wal beside it) holds every row.
	h2, _ := newHost(t)
	d2, _, err := h2.Open(ctx, OpenOptions{Name: "copy", Storage: "memory"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d2.ImportWith(ctx, img, ImportOptions{AllowExtraSchema: true}); err != nil {
		t.Fatal(err)
	}
	_, rows := query(t, d2, 0, "SELECT count(*), max(x) FROM t", Params{})
	if fmt.Sprint(rows[0]) != "[3000 row 999]" {
		t.Errorf("exported image holds %v", rows)
	}
	// The database keeps working after the export.
	if _, err := d.Exec(ctx, 0, "INSERT INTO t VALUES ('after')", Params{}); err != nil {
		t.Fatal(err)
	}
}
