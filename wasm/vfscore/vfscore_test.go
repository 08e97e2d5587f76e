package vfscore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/wasm/vfscore"
	"github.com/larderdb/larder/wasm/vfscore/crashtest"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

func newCore(t *testing.T) (*vfscore.VFS, *crashtest.Disk, string) {
	t.Helper()
	disk := crashtest.NewDisk(rand.New(rand.NewPCG(1, 1)), 0)
	v, err := vfscore.New(crashtest.Backend{Disk: disk}, vfscore.Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	name := crashtest.Register("vfscore", v)
	t.Cleanup(func() { vfs.Unregister(name) })
	return v, disk, name
}

func open(t *testing.T, vfsName, db string) *sqlite3.Conn {
	t.Helper()
	conn, err := sqlite3.Open("file:" + db + "?vfs=" + vfsName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestNewValidates(t *testing.T) {
	if _, err := vfscore.New(nil, vfscore.Options{Name: "x"}); err == nil {
		t.Error("nil backend accepted")
	}
	b := crashtest.Backend{Disk: crashtest.NewDisk(nil, 0)}
	if _, err := vfscore.New(b, vfscore.Options{}); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := vfscore.New(b, vfscore.Options{Name: "x", SectorSize: 1000}); err == nil {
		t.Error("sector size 1000 accepted")
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"app", "app.db", "my notes ✓", strings.Repeat("a", 200)} {
		if err := vfscore.ValidName(ok); err != nil {
			t.Errorf("ValidName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\x00b", "tab\tname", strings.Repeat("a", 201)} {
		if err := vfscore.ValidName(bad); err == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
}

// TestPersistsAcrossConnections: data written by one connection is read by
// the next, and handles are closed with the last file unless preopened.
func TestPersistsAcrossConnections(t *testing.T) {
	v, _, name := newCore(t)
	conn := open(t, name, "app.db")
	if err := conn.Exec("CREATE TABLE t(x); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if !v.IsOpen("app.db") {
		t.Error("database not open while a connection is")
	}
	conn.Close()
	if v.IsOpen("app.db") {
		t.Error("handles still held after the last connection closed")
	}
	if err := v.Preopen(context.Background(), "/app.db"); err != nil {
		t.Fatal(err)
	}
	conn = open(t, name, "app.db")
	stmt, _, err := conn.Prepare("SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if !stmt.Step() || stmt.ColumnInt64(0) != 42 {
		t.Errorf("read back %d, want 42", stmt.ColumnInt64(0))
	}
	stmt.Close()
	conn.Close()
	if !v.IsOpen("app.db") {
		t.Error("preopened handles closed with the connection")
	}
	if err := v.Release("app.db"); err != nil {
		t.Fatal(err)
	}
	if v.IsOpen("app.db") {
		t.Error("handles held after Release")
	}
}

// TestReleaseWhileOpen: I/O after Release fails cleanly with an I/O error
// instead of touching closed handles.
func TestReleaseWhileOpen(t *testing.T) {
	v, _, name := newCore(t)
	conn := open(t, name, "app.db")
	if err := conn.Exec("CREATE TABLE t(x)"); err != nil {
		t.Fatal(err)
	}
	if err := v.Release("app.db"); err != nil {
		t.Fatal(err)
	}
	err := conn.Exec("INSERT INTO t VALUES (1)")
	if !errors.Is(err, sqlite3.IOERR) {
		t.Errorf("write after Release: %v, want SQLITE_IOERR", err)
	}
}

// TestLocking: two connections in the same worker exclude each other as
// SQLite expects (in-process locks).
func TestLocking(t *testing.T) {
	_, _, name := newCore(t)
	a, b := open(t, name, "app.db"), open(t, name, "app.db")
	if err := a.Exec("CREATE TABLE t(x)"); err != nil {
		t.Fatal(err)
	}
	if err := a.Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := b.Exec("BEGIN IMMEDIATE"); !errors.Is(err, sqlite3.BUSY) {
		t.Errorf("second writer: %v, want SQLITE_BUSY", err)
	}
	if err := a.Exec("COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := b.Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT"); err != nil {
		t.Errorf("writer after commit: %v", err)
	}
	if err := a.Exec("PRAGMA locking_mode=EXCLUSIVE; INSERT INTO t VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	if err := b.Exec("SELECT * FROM t"); !errors.Is(err, sqlite3.BUSY) {
		t.Errorf("reader while another connection holds an exclusive lock: %v, want SQLITE_BUSY", err)
	}
}

// TestQuotaShortWrite: a write that comes back short (OPFS at quota) is
// SQLITE_FULL, the connection stays usable and the database intact.
func TestQuotaShortWrite(t *testing.T) {
	for _, pragmas := range []string{"PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL", "PRAGMA journal_mode=DELETE"} {
		t.Run(pragmas, func(t *testing.T) {
			_, disk, name := newCore(t)
			conn := open(t, name, "app.db")
			if err := conn.Exec(pragmas + "; CREATE TABLE t(v BLOB); INSERT INTO t VALUES (randomblob(10000))"); err != nil {
				t.Fatal(err)
			}
			disk.SetQuota(200 << 10)
			var err error
			rows := 1
			for ; rows < 1000; rows++ {
				if err = conn.Exec("INSERT INTO t VALUES (randomblob(3000))"); err != nil {
					break
				}
			}
			// (ncruces reports SQLITE_FULL as a bare code: the cause,
			// ErrQuota, is kept for I/O errors only.)
			if !errors.Is(err, sqlite3.FULL) {
				t.Fatalf("at quota: %v, want SQLITE_FULL", err)
			}
			if err := checkCount(conn, rows); err != nil {
				t.Error(err)
			}
			disk.SetQuota(0)
			if err := conn.Exec("INSERT INTO t VALUES (1)"); err != nil {
				t.Errorf("after room came back: %v", err)
			}
		})
	}
}

func checkCount(conn *sqlite3.Conn, want int) error {
	stmt, _, err := conn.Prepare("SELECT count(*) FROM t")
	if err != nil {
		return err
	}
	defer stmt.Close()
	if !stmt.Step() {
		return stmt.Err()
	}
	if got := stmt.ColumnInt64(0); got != int64(want) {
		return fmt.Errorf("%d rows, want the %d committed", got, want)
	}
	stmt.Close()
	stmt, _, err = conn.Prepare("PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer stmt.Close()
	if !stmt.Step() || stmt.ColumnText(0) != "ok" {
		return fmt.Errorf("integrity_check: %s %v", stmt.ColumnText(0), stmt.Err())
	}
	return nil
}

func TestErrorMapping(t *testing.T) {
	quota := &jsutil.DOMError{Name: "QuotaExceededError", Message: "full"}
	busy := &jsutil.DOMError{Name: "NoModificationAllowedError", Message: "locked"}
	other := &jsutil.DOMError{Name: "InvalidStateError", Message: "closed"}
	for _, c := range []struct {
		err  error
		full bool
		busy bool
	}{
		{quota, true, false},
		{fmt.Errorf("write: %w", quota), true, false},
		{io.ErrShortWrite, true, false},
		{busy, false, true},
		{other, false, false},
	} {
		if got := vfscore.IsQuota(c.err); got != c.full {
			t.Errorf("IsQuota(%v) = %v", c.err, got)
		}
		if got := vfscore.IsBusy(c.err); got != c.busy {
			t.Errorf("IsBusy(%v) = %v", c.err, got)
		}
	}
	if vfscore.IOError(nil, sqlite3.IOERR_WRITE) != nil || vfscore.OpenError(nil) != nil {
		t.Error("nil error mapped to non-nil")
	}
	if err := vfscore.IOError(sqlite3.BUSY, sqlite3.IOERR_WRITE); err != sqlite3.BUSY {
		t.Errorf("an SQLite code was re-tagged: %v", err)
	}
}

func TestRetry(t *testing.T) {
	busy := &jsutil.DOMError{Name: "NoModificationAllowedError"}
	calls := 0
	err := vfscore.Retry(context.Background(), time.Second, vfscore.IsBusy, func() error {
		if calls++; calls < 3 {
			return busy
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("Retry: %v after %d calls, want success after 3", err, calls)
	}

	calls = 0
	start := time.Now()
	err = vfscore.Retry(context.Background(), 200*time.Millisecond, vfscore.IsBusy, func() error { calls++; return busy })
	if !errors.Is(err, busy) || !strings.Contains(err.Error(), "gave up") {
		t.Errorf("Retry past its timeout: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Retry with a 200ms timeout took %v", d)
	}

	calls = 0
	other := errors.New("other")
	if err := vfscore.Retry(context.Background(), time.Second, vfscore.IsBusy, func() error { calls++; return other }); err != other || calls != 1 {
		t.Errorf("non-retryable error: %v after %d calls", err, calls)
	}
}

func TestStatements(t *testing.T) {
	got := vfscore.Statements(" PRAGMA a=1; ;PRAGMA b=2;\n")
	if len(got) != 2 || got[0] != "PRAGMA a=1" || got[1] != "PRAGMA b=2" {
		t.Fatalf("Statements = %q", got)
	}
}
