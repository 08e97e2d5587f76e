package imagecheck_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/imagecheck"
	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

// checked builds a migrated database file of rows rows in table t, whose
// CHECK constraint costs terms additions per row (integrity_check
// evaluates it), and returns it opened for Check with its migrations.
func checked(t *testing.T, rows, terms int) (*sqlite3.Conn, []*migrations.Migration) {
	t.Helper()
	sum := make([]string, terms)
	for i := range sum {
		sum[i] = "abs(x)"
	}
	m, err := migrations.Parse("0001_t.sql", []byte(fmt.Sprintf("CREATE TABLE t(x INTEGER CHECK (%s >= 0));\n", strings.Join(sum, " + "))))
	if err != nil {
		t.Fatal(err)
	}
	migs := []*migrations.Migration{m}
	path := filepath.Join(t.TempDir(), "image.db")
	conn := testdb.Open(t, path)
	if _, err := msqlite.Migrate(context.Background(), conn, migs, migrations.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(fmt.Sprintf("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d) INSERT INTO t SELECT i FROM c", rows)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	check, err := imagecheck.Open(path, sqlite3.OPEN_READWRITE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { check.Close() })
	return check, migs
}

// TestBudgetSpentOnASmallFile: a budget already spent when the checks
// start refuses nothing that costs less than MinWork before hardFactor
// times the budget: a busy machine alone does not get a small file
// refused; past that it is (here at once: 1 ns).
func TestBudgetSpentOnASmallFile(t *testing.T) {
	conn, migs := checked(t, 3, 1)
	old := imagecheck.SetHardFactor(1 << 40) // 1 ns × 2^40: about 18 minutes
	ctx, cancel := imagecheck.Budget(context.Background(), 1)
	defer cancel()
	_, err := imagecheck.Check(ctx, conn, imagecheck.Options{Migrations: migs})
	imagecheck.SetHardFactor(old)
	if err != nil {
		t.Fatalf("a three-row file refused: %v", err)
	}
	ctx, cancel = imagecheck.Budget(context.Background(), 1)
	defer cancel()
	var ie *imagecheck.Error
	if _, err := imagecheck.Check(ctx, conn, imagecheck.Options{Migrations: migs}); !errors.As(err, &ie) || !ie.Timeout {
		t.Fatalf("past hardFactor × the budget: err = %v, want a time budget refusal", err)
	}
}

// TestBudgetRefusesAnExpensiveFile: a file whose checks cost more than
// MinWork is refused, with Timeout set and a reason naming the step, once
// the time is up (not waiting for hardFactor × the budget); with time left
// it is accepted.
func TestBudgetRefusesAnExpensiveFile(t *testing.T) {
	conn, migs := checked(t, 20000, 400)
	old := imagecheck.SetHardFactor(1 << 40)
	ctx, cancel := imagecheck.Budget(context.Background(), 1)
	defer cancel()
	_, err := imagecheck.Check(ctx, conn, imagecheck.Options{Migrations: migs})
	imagecheck.SetHardFactor(old)
	var ie *imagecheck.Error
	if !errors.As(err, &ie) || !ie.Timeout || !strings.Contains(ie.Reason, "time budget") || !strings.Contains(ie.Reason, "integrity_check") {
		t.Fatalf("err = %v, want a time budget refusal while running integrity_check", err)
	}
	ctx, cancel = imagecheck.Budget(context.Background(), 0) // the default
	defer cancel()
	if _, err := imagecheck.Check(ctx, conn, imagecheck.Options{Migrations: migs}); err != nil {
		t.Fatalf("with the default budget: %v", err)
	}
}

// TestBudgetCancelled: cancelling stops the checks at once, spent or not.
func TestBudgetCancelled(t *testing.T) {
	conn, migs := checked(t, 3, 1)
	ctx, cancel := imagecheck.Budget(context.Background(), 0)
	cancel()
	if _, err := imagecheck.Check(ctx, conn, imagecheck.Options{Migrations: migs}); err == nil {
		t.Fatal("a cancelled check accepted the file")
	}
}
