package idb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

func openTrial(t *testing.T) (*storeTrial, *sqlite3.Conn) {
	t.Helper()
	tr := newStoreTrial(rand.New(rand.NewPCG(1, 2)), 0).(*storeTrial)
	t.Cleanup(tr.Close)
	conn, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Exec(RecommendedPragmas); err != nil {
		t.Fatal(err)
	}
	return tr, conn
}

// TestBatchAtomicCommit checks the point of the design: with the
// recommended pragmas an autocommit insert is exactly one IndexedDB
// transaction on the database file and none on the journal.
func TestBatchAtomicCommit(t *testing.T) {
	tr, conn := openTrial(t)
	if err := conn.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	before, beforeJournal := tr.st.commits["db"], tr.st.commits["journal"]
	const n = 50
	for i := range n {
		if err := conn.Exec(fmt.Sprintf("INSERT INTO t(v) VALUES ('row %d')", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := tr.st.commits["db"] - before; got != n {
		t.Errorf("%d inserts made %d IndexedDB commits on the database, want %d", n, got, n)
	}
	if got := tr.st.commits["journal"] - beforeJournal; got != 0 {
		t.Errorf("small transactions wrote the journal %d times, want 0", got)
	}
}

// TestJournalFallback checks that a transaction too big for SQLite's page
// cache commits through the rollback journal, and survives a reopen.
func TestJournalFallback(t *testing.T) {
	tr, conn := openTrial(t)
	if err := conn.Exec("PRAGMA cache_size=8; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec("BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 400) INSERT INTO t(v) SELECT randomblob(1000) FROM c; COMMIT"); err != nil {
		t.Fatal(err)
	}
	if tr.st.commits["journal"] == 0 {
		t.Errorf("a transaction spilling the page cache did not use the journal: commits %v", tr.st.commits)
	}
	conn.Close()
	tr.Restart(rand.New(rand.NewPCG(3, 4)))
	conn2, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	stmt, _, err := conn2.Prepare("SELECT count(*) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	if !stmt.Step() || stmt.ColumnInt64(0) != 400 {
		t.Errorf("after reopen: %d rows, want 400 (%v)", stmt.ColumnInt64(0), stmt.Err())
	}
}

// TestQuotaFull fills a quota and checks SQLITE_FULL with the database intact.
func TestQuotaFull(t *testing.T) {
	tr, conn := openTrial(t)
	if err := conn.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)"); err != nil {
		t.Fatal(err)
	}
	tr.SetQuota(64 << 10)
	var err error
	rows := 0
	for ; rows < 1000; rows++ {
		if err = conn.Exec("INSERT INTO t(v) VALUES (randomblob(3000))"); err != nil {
			break
		}
	}
	if !errors.Is(err, sqlite3.FULL) {
		t.Fatalf("filling the quota: got %v, want SQLITE_FULL", err)
	}
	var count int64
	stmt, _, err := conn.Prepare("SELECT count(*) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if stmt.Step() {
		count = stmt.ColumnInt64(0)
	}
	stmt.Close()
	if count != int64(rows) {
		t.Errorf("after SQLITE_FULL: %d rows, want the %d committed", count, rows)
	}
}

// TestDurabilityParameter: ?durability= chooses the IndexedDB durability
// hint of commits; a bad value refuses to open.
func TestDurabilityParameter(t *testing.T) {
	for _, c := range []struct{ param, want string }{{"", "default"}, {"&durability=strict", "strict"}, {"&durability=relaxed", "relaxed"}} {
		tr := newStoreTrial(rand.New(rand.NewPCG(1, 2)), 0).(*storeTrial)
		conn, err := sqlite3.Open("file:test.db?vfs=" + tr.vfsName + c.param)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Exec("CREATE TABLE t(x)"); err != nil {
			t.Fatal(err)
		}
		if tr.st.durability != c.want {
			t.Errorf("%q: commits used durability %q, want %q", c.param, tr.st.durability, c.want)
		}
		conn.Close()
		tr.Close()
	}
	tr := newStoreTrial(rand.New(rand.NewPCG(1, 2)), 0).(*storeTrial)
	defer tr.Close()
	if _, err := sqlite3.Open("file:test.db?vfs=" + tr.vfsName + "&durability=sometimes"); !errors.Is(err, sqlite3.CANTOPEN) {
		t.Errorf("bad durability: %v, want SQLITE_CANTOPEN", err)
	}
}

// TestRevokedConnection: when the browser closes the IndexedDB connection
// (another context deletes the database), the next open acquires it again
// instead of reusing dead handles.
func TestRevokedConnection(t *testing.T) {
	tr, conn := openTrial(t)
	if err := conn.Exec("CREATE TABLE t(x)"); err != nil {
		t.Fatal(err)
	}
	conn2, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if tr.st.acquired != 1 {
		t.Fatalf("acquired %d times for two connections, want 1", tr.st.acquired)
	}
	tr.st.revoked = true
	conn3, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn3.Close()
	if tr.st.acquired != 2 {
		t.Errorf("after revocation: acquired %d times, want 2", tr.st.acquired)
	}
	if err := conn3.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Errorf("write on the re-acquired database: %v", err)
	}
}
