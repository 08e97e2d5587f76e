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

func TestForeignKeysPragmaIsReportedNotRun(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	migs := []*migrations.Migration{
		testdb.Parse(t, "0001_a.sql", "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (p INTEGER REFERENCES p (id) ON DELETE CASCADE);\n"),
		testdb.Parse(t, "0002_b.sql", "pragma Foreign_Keys=off;\nPRAGMA main.foreign_keys(0);\nPRAGMA foreign_keys;\nINSERT INTO p VALUES (1);\nINSERT INTO c VALUES (1);\nPRAGMA \"foreign_keys\" = 'ON';\n"),
	}
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Up(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := res[1].Notices
	if len(got) != 3 || !strings.HasPrefix(got[0], "0002_b.sql:1: pragma Foreign_Keys=off was not run") ||
		!strings.HasPrefix(got[1], "0002_b.sql:2: ") || !strings.HasPrefix(got[2], "0002_b.sql:6: ") {
		t.Fatalf("notices %q", got)
	}
	if len(res[0].Notices) != 0 {
		t.Errorf("notices for a migration without the pragma: %q", res[0].Notices)
	}
	if on := testdb.Int(t, conn, "PRAGMA foreign_keys"); on != 1 {
		t.Error("foreign keys left off")
	}
}

func TestForeignKeysBackOnAfterFailure(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	m := testdb.Parse(t, "0001_a.sql", "CREATE TABLE a (x);\nPRAGMA legacy_alter_table = ON;\nCREATE TEMP TABLE scratch (x);\nSELECT * FROM nope;\n")
	p, err := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{m}, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx, 0); err == nil {
		t.Fatal("failing migration applied")
	}
	if on := testdb.Int(t, conn, "PRAGMA foreign_keys"); on != 1 {
		t.Error("foreign keys left off after a failure")
	}
	if v := testdb.Int(t, conn, "PRAGMA legacy_alter_table"); v != 0 {
		t.Error("legacy_alter_table left on after a failure")
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM temp.sqlite_schema"); n != 0 {
		t.Error("temp table left after a failure")
	}
}

func TestCommentOnlyUpIsRecorded(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	var migs []*migrations.Migration
	for i, up := range []string{"-- nothing\n", "/* kept\n for numbering */\n;\n", "\n-- a\n\n-- b"} {
		// Built by hand: whether Parse accepts such a file is the loader's business.
		migs = append(migs, &migrations.Migration{Version: int64(i + 1), Name: "noop", Up: up, UpLine: 2, Checksum: migrations.Checksum(up)})
		p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Up(ctx, 0)
		if err != nil || len(res) != 1 || res[0].Skipped {
			t.Fatalf("up %q: %v, %+v", up, err, res)
		}
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM _migrations"); n != 3 {
		t.Errorf("%d rows recorded, want 3", n)
	}
}

func TestRenameAsideInGoMigrationWithNoForeignKeys(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	init := testdb.Parse(t, "0001_init.sql", "CREATE TABLE u (id INTEGER PRIMARY KEY);\nCREATE TABLE s (u INTEGER REFERENCES u (id));\nINSERT INTO u VALUES (1);\nINSERT INTO s VALUES (1);\n")
	aside := sqlite.Go(2, "aside", func(ctx context.Context, tx *sqlite.Tx) error {
		return tx.Exec(ctx, "ALTER TABLE u RENAME TO u_old; CREATE TABLE u (id INTEGER PRIMARY KEY, n TEXT); INSERT INTO u (id) SELECT id FROM u_old; DROP TABLE u_old;")
	}, nil)
	aside.NoForeignKeys = true
	p, err := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{init, aside}, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Up(ctx, 0)
	if !errors.Is(err, sqlite.ErrDanglingForeignKey) || !strings.Contains(err.Error(), "s(u) references u_old") {
		t.Fatalf("rename aside in Go: %v", err)
	}
	if got := testdb.Text(t, conn, `SELECT "table" FROM pragma_foreign_key_list('s')`); got != "u" {
		t.Errorf("child points at %q after the rollback", got)
	}
}

func TestForwardReferenceToLaterTableIsAllowed(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	migs := []*migrations.Migration{
		testdb.Parse(t, "0001_child.sql", "CREATE TABLE comment (post_id INTEGER REFERENCES post (id));\n"),
		testdb.Parse(t, "0002_parent.sql", "CREATE TABLE post (id INTEGER PRIMARY KEY);\n"),
	}
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
}
