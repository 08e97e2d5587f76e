package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// noTx parses a migration file and marks it to run without a transaction,
// as the dbmate and goose parsers do for "transaction:false" and
// "NO TRANSACTION".
func noTx(t *testing.T, name, body string) *migrations.Migration {
	m := testdb.Parse(t, name, body)
	m.NoTransaction = true
	return m
}

func TestNoTransactionRunsVacuumAndJournalMode(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	migs := []*migrations.Migration{
		testdb.Parse(t, "0001_t.sql", "CREATE TABLE t (x);\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) INSERT INTO t SELECT randomblob(3000) FROM n;\nDELETE FROM t;\n"),
		noTx(t, "0002_wal.sql", "PRAGMA journal_mode = WAL;\n"),
		noTx(t, "0003_vacuum.sql", "VACUUM;\n"),
	}
	// Inside a transaction VACUUM fails: the test would prove nothing otherwise.
	store := sqlite.NewStore(conn)
	if err := store.Init(ctx); err != nil {
		t.Fatal(err)
	}
	inTx := *migs[2]
	inTx.NoTransaction = false
	if _, err := store.Apply(ctx, &inTx, migrations.Up); err == nil || !strings.Contains(err.Error(), "VACUUM") {
		t.Fatalf("VACUUM inside a transaction: %v", err)
	}
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := testdb.Text(t, conn, "PRAGMA journal_mode"); got != "wal" {
		t.Errorf("journal_mode %s", got)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM _migrations"); n != 3 {
		t.Errorf("%d rows in _migrations", n)
	}
	if tableExists(t, conn, "_migrations_running") {
		t.Error("claim table left behind")
	}
}

func TestNoTransactionFailureKeepsEarlierStatementsAndRecordsNothing(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	m := noTx(t, "0001_half.sql", "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n\nINSERT INTO missing VALUES (1);\nCREATE TABLE b (x);\n")
	p, err := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{m}, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Up(ctx, 0)
	var me *migrations.MigrationError
	if !errors.As(err, &me) || me.Line != 4 || !strings.Contains(err.Error(), "stay applied") {
		t.Fatalf("error %v; want line 4, saying earlier statements stay applied", err)
	}
	if !tableExists(t, conn, "a") || tableExists(t, conn, "b") {
		t.Error("want a (before the failure) and not b (after it)")
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM _migrations"); n != 0 {
		t.Error("failed migration recorded")
	}
	if tableExists(t, conn, "_migrations_running") {
		t.Error("claim left behind after a failure that was reported")
	}
}

func TestNoTransactionClaimStopsSecondRunner(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	if err := conn.Exec("CREATE TABLE log (v); CREATE TABLE _migrations_running (version INTEGER PRIMARY KEY, direction TEXT NOT NULL, started_at TEXT NOT NULL); INSERT INTO _migrations_running VALUES (1, 'up', '2026-01-02T03:04:05.000Z')"); err != nil {
		t.Fatal(err)
	}
	m := noTx(t, "0001_log.sql", "INSERT INTO log VALUES ('ran');\n")
	if err := sqlite.NewStore(conn).Init(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.NewStore(conn).Apply(ctx, m, migrations.Up)
	if !errors.Is(err, sqlite.ErrInterrupted) || !strings.Contains(err.Error(), "2026-01-02T03:04:05.000Z") {
		t.Fatalf("claimed migration: %v", err)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM log"); n != 0 {
		t.Error("a claimed migration ran")
	}
}

func TestNoTransactionAppliesOnceAcrossRunners(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	setup := testdb.Open(t, path)
	if err := setup.Exec("CREATE TABLE log (v)"); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.NewStore(setup).Init(ctx); err != nil {
		t.Fatal(err)
	}
	const runners = 6
	var wg sync.WaitGroup
	outcomes := make(chan error, runners)
	for range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := sqlite.Open(path)
			if err != nil {
				outcomes <- err
				return
			}
			defer conn.Close()
			m := noTx(t, "0001_log.sql", "INSERT INTO log VALUES ('a');\nINSERT INTO log VALUES ('b');\n")
			_, err = sqlite.NewStore(conn).Apply(ctx, m, migrations.Up)
			outcomes <- err
		}()
	}
	wg.Wait()
	close(outcomes)
	applied := 0
	for err := range outcomes {
		switch {
		case err == nil:
			applied++
		case errors.Is(err, migrations.ErrAlreadyApplied), errors.Is(err, sqlite.ErrInterrupted):
		default:
			t.Errorf("runner: %v", err)
		}
	}
	if applied != 1 {
		t.Errorf("%d runners applied it, want 1", applied)
	}
	if n := testdb.Int(t, setup, "SELECT count(*) FROM log"); n != 2 {
		t.Errorf("log has %d rows, want 2 (one run)", n)
	}
	if n := testdb.Int(t, setup, "SELECT count(*) FROM _migrations"); n != 1 {
		t.Errorf("%d rows in _migrations", n)
	}
}

func TestNoTransactionDownDeletesRowAfterSuccess(t *testing.T) {
	ctx := context.Background()
	conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	m := noTx(t, "0001_wal.sql", "-- migrate:up\nPRAGMA journal_mode = WAL;\n-- migrate:down\nPRAGMA journal_mode = DELETE;\n")
	store := sqlite.NewStore(conn)
	if err := store.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Apply(ctx, m, migrations.Up); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Apply(ctx, m, migrations.Down); err != nil {
		t.Fatal(err)
	}
	if got := testdb.Text(t, conn, "PRAGMA journal_mode"); got != "delete" {
		t.Errorf("journal_mode %s after down", got)
	}
	if n := testdb.Int(t, conn, "SELECT count(*) FROM _migrations"); n != 0 {
		t.Error("row kept after down")
	}
}
