package syncer

import (
	"context"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// CheckDir checks DIR/sync.toml against the schema that DIR's migrations
// build, in a fresh in-memory database: the check a build or CI runs before
// deploying.
func CheckDir(ctx context.Context, dir string) (*Schema, error) {
	cfg, err := LoadDir(dir)
	if err != nil {
		return nil, err
	}
	migs, err := migrations.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	conn, err := sqlite3.Open(":memory:")
	if err != nil {
		return nil, fmt.Errorf("sync: check: %w", err)
	}
	defer conn.Close()
	if _, err := sqlite.Migrate(ctx, conn, migs, migrations.Options{}); err != nil {
		return nil, fmt.Errorf("sync: check: %w", err)
	}
	store := NewConnStore(conn)
	defer store.Close()
	return Check(ctx, store, cfg)
}
