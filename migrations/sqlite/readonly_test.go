package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// Status, Validate, Version, the plans and Down only read: on a database
// that was never migrated they leave it without a _migrations table. Up
// creates it.
func TestReadOnlyCallsCreateNothing(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, basic), migrations.Options{})
	st, err := p.Status(ctx)
	if err != nil || len(st) != 3 || st[0].State != migrations.StatePending {
		t.Fatalf("status %+v, %v", st, err)
	}
	if err := p.Validate(ctx); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if steps, err := p.PlanUp(ctx, 0); err != nil || len(steps) != 3 {
		t.Fatalf("plan up %v, %v", steps, err)
	}
	if steps, err := p.PlanDown(ctx, migrations.DownTarget{}); err != nil || len(steps) != 0 {
		t.Fatalf("plan down %v, %v", steps, err)
	}
	if res, err := p.Down(ctx, migrations.DownTarget{Steps: 1}); err != nil || len(res) != 0 {
		t.Fatalf("down %v, %v", res, err)
	}
	if v, err := p.Version(ctx); err != nil || v != 0 {
		t.Fatalf("version %d, %v", v, err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM sqlite_schema"); n != 0 {
		t.Fatalf("read-only calls created %d schema objects", n)
	}
	if _, err := p.Up(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if v, err := p.Version(ctx); err != nil || v != 2 {
		t.Fatalf("version after up --to 2: %d, %v", v, err)
	}
	if v, err := migrations.StoreVersion(ctx, sqlite.NewStore(conn)); err != nil || v != 2 {
		t.Fatalf("store version: %d, %v", v, err)
	}
}

// AllowNewerNonBreaking: code that knows migrations up to 1 opens a
// database at 3 when 2 and 3 are non-breaking, applies nothing above 1 and
// reports the database's version; a breaking 4 makes it ErrDatabaseNewer,
// naming only 4.
func TestAllowNewerNonBreaking(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	files := map[string]string{
		"0001_a.sql": "CREATE TABLE a (x);",
		"0002_b.sql": "CREATE TABLE b (x);",
		"0003_c.sql": "CREATE TABLE c (x);",
	}
	if _, err := provider(t, conn, testdb.Dir(t, files), migrations.Options{}).Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	older := testdb.Dir(t, map[string]string{"0001_a.sql": files["0001_a.sql"]})
	if _, err := provider(t, conn, older, migrations.Options{}).Up(ctx, 0); !errors.Is(err, migrations.ErrDatabaseNewer) {
		t.Fatalf("strict: %v, want ErrDatabaseNewer", err)
	}
	lenient := provider(t, conn, older, migrations.Options{AllowNewerNonBreaking: true})
	if res, err := lenient.Up(ctx, 0); err != nil || len(res) != 0 {
		t.Fatalf("lenient up: %v, %v", res, err)
	}
	if v, err := lenient.Version(ctx); err != nil || v != 3 {
		t.Fatalf("version %d, %v; want 3", v, err)
	}
	// The known migrations are still checked.
	edited := testdb.Dir(t, map[string]string{"0001_a.sql": "CREATE TABLE a (x, y);"})
	if err := provider(t, conn, edited, migrations.Options{AllowNewerNonBreaking: true}).Validate(ctx); !errors.Is(err, migrations.ErrChecksumMismatch) || errors.Is(err, migrations.ErrDatabaseNewer) {
		t.Fatalf("edited known migration: %v", err)
	}

	files["0004_d.sql"] = "-- migrate:breaking\nALTER TABLE a RENAME TO a2;"
	if _, err := provider(t, conn, testdb.Dir(t, files), migrations.Options{}).Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	err := provider(t, conn, older, migrations.Options{AllowNewerNonBreaking: true}).Validate(ctx)
	var ve *migrations.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Err != migrations.ErrDatabaseNewer ||
		ve.Problems[0].Version != 4 || !strings.Contains(ve.Problems[0].Detail, "breaking") {
		t.Fatalf("breaking newer: %v", err)
	}
	recs, err := sqlite.NewStore(conn).Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := migrations.NewerBreaking(recs, 1); !ok || r.Version != 4 || r.Name != "d" {
		t.Fatalf("NewerBreaking(1) = %+v, %v", r, ok)
	}
	if r, ok := migrations.NewerBreaking(recs, 4); ok {
		t.Fatalf("NewerBreaking(4) = %+v", r)
	}
}
