package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
)

// homebox's goose directory has Go migrations between its SQL files. goose's
// CLI stops at the first; so does up, and nothing after it is applied.
func TestUpStopsAtGooseGoFile(t *testing.T) {
	ctx := context.Background()
	dir := testdb.Dir(t, map[string]string{
		"20220929052825_init.sql":         "-- +goose Up\nCREATE TABLE items (id INTEGER PRIMARY KEY);\n-- +goose Down\nDROP TABLE items;\n",
		"20241226183416_sync_children.go": "package sqlite3\n",
		"20250405050521_merge_docs.sql":   "-- +goose Up\nALTER TABLE items ADD COLUMN sync_child_items_locations BOOLEAN NOT NULL DEFAULT FALSE;\n",
	})
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	res, err := provider(t, conn, dir, migrations.Options{}).Up(ctx, 0)
	var me *migrations.MigrationError
	if len(res) != 1 || !errors.Is(err, migrations.ErrGoMigrationFile) || !errors.As(err, &me) || me.Version != 20241226183416 {
		t.Fatalf("applied %d, err %v", len(res), err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM pragma_table_info('items') WHERE name = 'sync_child_items_locations'"); n != 0 {
		t.Error("a migration after the Go file was applied")
	}
}
