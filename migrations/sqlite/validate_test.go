package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

func TestStatusShowsEveryState(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	dir := testdb.Dir(t, map[string]string{
		"0001_a.sql": "CREATE TABLE a (x);",
		"0002_b.sql": "CREATE TABLE b (x);",
		"0004_d.sql": "CREATE TABLE d (x);",
		"0005_e.sql": "CREATE TABLE e (x);",
	})
	if _, err := provider(t, conn, dir, migrations.Options{}).Up(ctx, 4); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "0001_a.sql"), []byte("CREATE TABLE a (x, y);"), 0o644) // modified
	os.Remove(filepath.Join(dir, "0002_b.sql"))                                             // missing
	os.WriteFile(filepath.Join(dir, "0003_c.sql"), []byte("CREATE TABLE c (x);"), 0o644)    // out of order
	st, err := provider(t, conn, dir, migrations.Options{}).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]migrations.State{1: migrations.StateModified, 2: migrations.StateMissing,
		3: migrations.StateOutOfOrder, 4: migrations.StateApplied, 5: migrations.StatePending}
	if len(st) != len(want) {
		t.Fatalf("status has %d rows: %+v", len(st), st)
	}
	for _, s := range st {
		if s.State != want[s.Version] {
			t.Errorf("version %d: state %s, want %s", s.Version, s.State, want[s.Version])
		}
		if s.Applied != (s.AppliedAt != "") {
			t.Errorf("version %d: applied %v but applied_at %q", s.Version, s.Applied, s.AppliedAt)
		}
	}
	// Up refuses with all three problems named, and applies nothing.
	_, err = provider(t, conn, dir, migrations.Options{}).Up(ctx, 0)
	for _, sentinel := range []error{migrations.ErrChecksumMismatch, migrations.ErrMissingMigration, migrations.ErrOutOfOrder} {
		if !errors.Is(err, sentinel) {
			t.Errorf("up error %v does not report %v", err, sentinel)
		}
	}
	if tableExists(t, conn, "c") || tableExists(t, conn, "e") {
		t.Fatal("up applied migrations despite validation errors")
	}
}

func TestOutOfOrderAllowed(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	dir := testdb.Dir(t, map[string]string{"0001_a.sql": "CREATE TABLE a (x);", "0003_c.sql": "CREATE TABLE c (x);"})
	if _, err := provider(t, conn, dir, migrations.Options{}).Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "0002_b.sql"), []byte("CREATE TABLE b (x);"), 0o644)
	if _, err := provider(t, conn, dir, migrations.Options{}).Up(ctx, 0); !errors.Is(err, migrations.ErrOutOfOrder) || !strings.Contains(err.Error(), "0002_b") {
		t.Fatalf("out-of-order file not refused: %v", err)
	}
	res, err := provider(t, conn, dir, migrations.Options{AllowOutOfOrder: true}).Up(ctx, 0)
	if err != nil || len(res) != 1 || !tableExists(t, conn, "b") {
		t.Fatalf("allowed out-of-order: %v %v", res, err)
	}
}

func TestDatabaseNewerThanCode(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "db.sqlite")
	conn := testdb.Open(t, dbPath)
	newer := testdb.Dir(t, map[string]string{"0001_a.sql": "CREATE TABLE a (x);", "0002_b.sql": "CREATE TABLE b (x);"})
	if _, err := provider(t, conn, newer, migrations.Options{}).Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	older := testdb.Dir(t, map[string]string{"0001_a.sql": "CREATE TABLE a (x);"})
	err := provider(t, conn, older, migrations.Options{}).Validate(ctx)
	if !errors.Is(err, migrations.ErrDatabaseNewer) || errors.Is(err, migrations.ErrMissingMigration) {
		t.Fatalf("err = %v, want only ErrDatabaseNewer", err)
	}
	if migrations.Code(err) != "LARDER_DATABASE_NEWER" {
		t.Fatal(migrations.Code(err))
	}
}

func TestUpToVersion(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, basic), migrations.Options{})
	if _, err := p.Up(ctx, 5); !errors.Is(err, migrations.ErrUnknownVersion) {
		t.Fatalf("--to 5: %v", err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM _migrations"); n != 0 {
		t.Fatal("--to an unknown version applied something")
	}
	if res, err := p.Up(ctx, 2); err != nil || len(res) != 2 {
		t.Fatalf("--to 2: %v %v", res, err)
	}
	if tableExists(t, conn, "note") && testdb.Int(t, conn, "SELECT count(*) FROM note") != 0 {
		t.Fatal("migration 10 ran with --to 2")
	}
}

func TestStampBaselines(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	// An existing database made before Larder: schema of 0001 and 0002 exists.
	if err := conn.Exec("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL); CREATE TABLE tag (id INTEGER PRIMARY KEY, note_id INTEGER, name TEXT)"); err != nil {
		t.Fatal(err)
	}
	p := provider(t, conn, testdb.Dir(t, basic), migrations.Options{})
	recs, err := p.Stamp(ctx, 2)
	if err != nil || len(recs) != 2 {
		t.Fatalf("stamp: %v %v", recs, err)
	}
	res, err := p.Up(ctx, 0)
	if err != nil || len(res) != 1 || res[0].Migration.Version != 10 {
		t.Fatalf("up after stamp: %v %v", res, err)
	}
	if _, err := p.Stamp(ctx, 3); !errors.Is(err, migrations.ErrUnknownVersion) {
		t.Fatalf("stamp unknown: %v", err)
	}
}

func TestForeignKeysOnByDefault(t *testing.T) {
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, map[string]string{
		"0001_a.sql": "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (p INTEGER REFERENCES p(id));\nINSERT INTO c VALUES (7);\n",
	}), migrations.Options{})
	_, err := p.Up(context.Background(), 0)
	var me *migrations.MigrationError
	if !errors.As(err, &me) || me.Code != "SQLITE_CONSTRAINT_FOREIGNKEY" {
		t.Fatalf("dangling reference accepted: %v", err)
	}
}

func TestTransactionControlRefused(t *testing.T) {
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, map[string]string{
		"0001_a.sql": "CREATE TABLE a (x);\nCOMMIT;\nCREATE TABLE b (x);\n",
	}), migrations.Options{})
	_, err := p.Up(context.Background(), 0)
	if !errors.Is(err, sqlite.ErrTransactionControl) || tableExists(t, conn, "a") {
		t.Fatalf("COMMIT inside a migration: %v", err)
	}
}

func TestGoMigrations(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	file, _ := migrations.Parse("0001_init.sql", []byte("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);"))
	code := sqlite.Go(2, "fill", func(ctx context.Context, tx *sqlite.Tx) error {
		for i := range 3 {
			if err := tx.Exec(ctx, "INSERT INTO note (body) VALUES (?)", strings.Repeat("x", i)); err != nil {
				return err
			}
		}
		return nil
	}, func(ctx context.Context, tx *sqlite.Tx) error {
		return tx.Exec(ctx, "DELETE FROM note")
	})
	failing := sqlite.Go(3, "fails", func(ctx context.Context, tx *sqlite.Tx) error {
		if err := tx.Exec(ctx, "INSERT INTO note (body) VALUES ('half')"); err != nil {
			return err
		}
		return errors.New("business rule violated")
	}, nil)
	p, err := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{failing, code, file}, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Up(ctx, 0)
	if len(res) != 2 || !errors.Is(err, migrations.ErrMigrationFailed) || !strings.Contains(err.Error(), "0003_fails") {
		t.Fatalf("got %d results, err %v", len(res), err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM note"); n != 3 {
		t.Fatalf("%d notes; the failed Go migration left a trace or the good one did not run", n)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM _migrations WHERE version = 2 AND checksum = ''"); n != 1 {
		t.Fatal("code migration not recorded with an empty checksum")
	}
	if _, err := p.Down(ctx, migrations.DownTarget{Steps: 1}); err != nil || testdb.Int(t, conn, "SELECT count(*) FROM note") != 0 {
		t.Fatalf("Go down: %v", err)
	}
}

func TestNoForeignKeysRebuildKeepsChildren(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	init, _ := migrations.Parse("0001_init.sql", []byte(`CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE c (p INTEGER REFERENCES p(id) ON DELETE CASCADE);
INSERT INTO p VALUES (1, 'one'); INSERT INTO c VALUES (1);`))
	rebuild, _ := migrations.Parse("0002_rebuild.sql", []byte(`CREATE TABLE p_new (id INTEGER PRIMARY KEY, v TEXT NOT NULL DEFAULT '');
INSERT INTO p_new SELECT id, v FROM p;
DROP TABLE p;
ALTER TABLE p_new RENAME TO p;`))
	rebuild.NoForeignKeys = true
	p, _ := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{init, rebuild}, migrations.Options{})
	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM c"); n != 1 {
		t.Fatal("DROP TABLE cascaded into the child table")
	}
	if testdb.Int(t, conn, "PRAGMA foreign_keys") != 1 {
		t.Fatal("foreign keys left off after the migration")
	}

	// A rebuild that orphans a child row is rolled back whole.
	bad, _ := migrations.Parse("0003_orphan.sql", []byte(`CREATE TABLE p_new (id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO p_new SELECT id + 100, v FROM p;
DROP TABLE p;
ALTER TABLE p_new RENAME TO p;`))
	bad.NoForeignKeys = true
	p, _ = migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{init, rebuild, bad}, migrations.Options{})
	_, err := p.Up(ctx, 0)
	if !errors.Is(err, sqlite.ErrForeignKeyViolation) {
		t.Fatalf("orphaning rebuild: %v", err)
	}
	if testdb.Int(t, conn, "SELECT id FROM p") != 1 || testdb.Int(t, conn, "PRAGMA foreign_keys") != 1 {
		t.Fatal("failed rebuild changed data or left foreign keys off")
	}
}

func TestOpenRejectsNonSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(path, []byte(strings.Repeat("this is not a database\n", 100)), 0o644)
	_, err := sqlite.Open(path)
	if !errors.Is(err, sqlite.ErrNotDatabase) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), "this is not") {
		t.Fatal("open changed the file")
	}
	if _, err := sqlite.OpenExisting(filepath.Join(t.TempDir(), "nope.db")); err == nil {
		t.Fatal("OpenExisting created a database")
	}
}

// ROLLBACK TO a savepoint is not transaction control, however it is laid
// out: the "TO" may follow a line break.
func TestRollbackToSavepointAllowed(t *testing.T) {
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	p := provider(t, conn, testdb.Dir(t, map[string]string{
		"0001_a.sql": "CREATE TABLE a (x);\nSAVEPOINT s;\nINSERT INTO a VALUES (1);\nROLLBACK\nTO s;\nRELEASE s;\n",
	}), migrations.Options{})
	if _, err := p.Up(context.Background(), 0); err != nil {
		t.Fatalf("ROLLBACK TO on two lines: %v", err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM a"); n != 0 {
		t.Fatalf("rows after ROLLBACK TO: %d", n)
	}
}
