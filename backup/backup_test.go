package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/backup"
	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/seed"
)

var migs = mustMigs(map[string]string{
	"0001_init.sql":  "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nCREATE TABLE total (n INTEGER NOT NULL);\nINSERT INTO total VALUES (0);\n",
	"0002_index.sql": "CREATE INDEX note_body ON note(body);\n",
})

func mustMigs(files map[string]string) []*migrations.Migration {
	var out []*migrations.Migration
	for name, body := range files {
		m, err := migrations.Parse(name, []byte(body))
		if err != nil {
			panic(err)
		}
		out = append(out, m)
	}
	out, err := migrations.Sort(out)
	if err != nil {
		panic(err)
	}
	return out
}

// newDB creates a migrated database holding n notes.
func newDB(t *testing.T, dir string, n int) string {
	t.Helper()
	db := filepath.Join(dir, "app.db")
	conn := testdb.Open(t, db)
	if _, err := sqlite.Migrate(context.Background(), conn, migs, migrations.Options{}); err != nil {
		t.Fatal(err)
	}
	conn.Exec("PRAGMA synchronous=OFF") // test set-up only: no fsync per row
	insert(t, conn, n)
	conn.Close()
	return db
}

// insert adds n notes and counts them in total, in one transaction each.
func insert(t testing.TB, conn *sqlite3.Conn, n int) {
	for i := range n {
		if err := conn.Exec(fmt.Sprintf("BEGIN IMMEDIATE; INSERT INTO note (body) VALUES ('note %d'); UPDATE total SET n = n + 1; COMMIT", i)); err != nil {
			t.Fatal(err)
		}
	}
}

func notes(t *testing.T, path string) int64 {
	t.Helper()
	conn := testdb.Open(t, path)
	defer conn.Close()
	return testdb.Int(t, conn, "SELECT count(*) FROM note")
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestBackupWhileAnotherConnectionWrites(t *testing.T) {
	for _, mode := range []string{"delete", "wal"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			db := newDB(t, t.TempDir(), 10)
			writer := testdb.Open(t, db)
			if err := writer.Exec("PRAGMA journal_mode=" + mode); err != nil {
				t.Fatal(err)
			}
			var stop atomic.Bool
			var wrote atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					// Two statements per transaction: a torn copy would show
					// count(note) != total.n.
					if err := writer.Exec(fmt.Sprintf("BEGIN IMMEDIATE; INSERT INTO note (body) VALUES ('w%d %s'); UPDATE total SET n = n + 1; COMMIT", i, strings.Repeat("x", i%3000))); err != nil {
						t.Error(err)
						return
					}
					wrote.Add(1)
				}
			}()
			deadline := time.Now().Add(10 * time.Second)
			for wrote.Load() < 20 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			var seen []int64
			for i := range 4 {
				out := filepath.Join(t.TempDir(), fmt.Sprintf("copy%d.bak", i))
				p, err := backup.Backup(ctx, db, out)
				if err != nil {
					t.Fatal(err)
				}
				if err := backup.Verify(ctx, p, known); err != nil {
					t.Fatalf("backup %d does not verify: %v", i, err)
				}
				conn := testdb.Open(t, p)
				n, total := testdb.Int(t, conn, "SELECT count(*) FROM note"), testdb.Int(t, conn, "SELECT n FROM total")
				if n != total {
					t.Fatalf("backup %d is torn: %d notes, total says %d", i, n, total)
				}
				if jm := testdb.Int(t, conn, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'delete'"); jm != 1 {
					t.Fatalf("backup %d is not in rollback-journal mode", i)
				}
				if hdr := testdb.ReadFile(t, p)[18:20]; !bytes.Equal(hdr, []byte{1, 1}) {
					t.Fatalf("backup %d header bytes 18/19 = %v, want 1/1", i, hdr)
				}
				conn.Close()
				seen = append(seen, n)
				time.Sleep(5 * time.Millisecond)
			}
			stop.Store(true)
			wg.Wait()
			if seen[len(seen)-1] <= 10 {
				t.Fatalf("backups saw no concurrent writes: %v", seen)
			}
			t.Logf("%s: backups saw %v notes while %d were written", mode, seen, wrote.Load())
		})
	}
}

func TestBackupNaming(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := newDB(t, dir, 3)
	before := time.Now().UTC().Add(-time.Second)
	p1, err := backup.Backup(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^app\.db\.(\d{8}T\d{6}Z)\.bak$`).FindStringSubmatch(filepath.Base(p1))
	if m == nil || filepath.Dir(p1) != dir {
		t.Fatalf("default backup path %s", p1)
	}
	if ts, err := time.Parse(backup.TimeFormat, m[1]); err != nil || ts.Before(before.Truncate(time.Second)) || ts.After(time.Now().Add(time.Second)) {
		t.Fatalf("timestamp %s is not the UTC time now: %v", m[1], err)
	}
	// Same second, or not: never the same file.
	p2, err := backup.Backup(ctx, db, "")
	if err != nil || p2 == p1 {
		t.Fatalf("second backup %s (%v)", p2, err)
	}
	if err := os.WriteFile(backup.DefaultPath(db, time.Now()), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	p3, err := backup.Backup(ctx, db, "")
	if err != nil || !strings.HasSuffix(p3, "-2.bak") && !strings.HasSuffix(p3, "-3.bak") && p3 == backup.DefaultPath(db, time.Now()) {
		t.Fatalf("backup over an existing name: %s %v", p3, err)
	}
	// --out: an existing file is refused, a directory gets the default name.
	_, err = backup.Backup(ctx, db, p1)
	if !errors.Is(err, backup.ErrExists) {
		t.Fatalf("backup onto an existing file: %v", err)
	}
	sub := filepath.Join(dir, "backups")
	os.Mkdir(sub, 0o755)
	p4, err := backup.Backup(ctx, db, sub)
	if err != nil || filepath.Dir(p4) != sub || !strings.HasPrefix(filepath.Base(p4), "app.db.") {
		t.Fatalf("backup into a directory: %s %v", p4, err)
	}
	if notes(t, p4) != 3 {
		t.Fatal("backup lacks the data")
	}
	for _, name := range listDir(t, dir) {
		if strings.Contains(name, ".tmp") {
			t.Fatalf("temporary file left behind: %s", name)
		}
	}
	if _, err := backup.Backup(ctx, filepath.Join(dir, "nope.db"), ""); err == nil {
		t.Fatal("backup of a missing database succeeded")
	}
}

// corrupt returns a copy of a valid database with garbage in its data
// pages but its header intact.
func corrupt(t *testing.T, dir string) string {
	t.Helper()
	src := newDB(t, t.TempDir(), 300)
	b := testdb.ReadFile(t, src)
	pageSize := int(b[16])<<8 | int(b[17])
	for i := 2 * pageSize; i < len(b); i += 7 {
		b[i] ^= 0x5a
	}
	p := filepath.Join(dir, "corrupt.bak")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRestoreRefusesInvalidFilesAndLeavesDatabaseAlone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := newDB(t, dir, 5)
	other := t.TempDir()
	noMigrations := filepath.Join(other, "plain.db")
	conn := testdb.Open(t, noMigrations)
	if err := conn.Exec("CREATE TABLE x (y)"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	cases := map[string]string{
		"text file":       "hello, I am not a database\n",
		"empty file":      "",
		"header only":     "SQLite format 3\x00",
		"no _migrations":  string(testdb.ReadFile(t, noMigrations)),
		"corrupt":         string(testdb.ReadFile(t, corrupt(t, other))),
		"truncated":       string(testdb.ReadFile(t, db)[:4096+100]),
		"zeroed database": strings.Repeat("\x00", 8192),
	}
	want := testdb.ReadFile(t, db)
	names := listDir(t, dir)
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			from := filepath.Join(other, strings.ReplaceAll(name, " ", "_")+".bak")
			if err := os.WriteFile(from, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			snap, err := backup.Restore(ctx, db, from, known)
			var ie *backup.InvalidError
			if !errors.Is(err, backup.ErrInvalid) || !errors.As(err, &ie) || ie.Path != from {
				t.Fatalf("err = %v, want an InvalidError for %s", err, from)
			}
			t.Logf("%s: %v", name, err)
			if snap.Path != "" {
				t.Fatalf("a refused restore made a backup: %s", snap.Path)
			}
			if !bytes.Equal(testdb.ReadFile(t, db), want) {
				t.Fatal("the database changed")
			}
			if got := listDir(t, dir); strings.Join(got, " ") != strings.Join(names, " ") {
				t.Fatalf("files changed beside the database: %v -> %v", names, got)
			}
		})
	}
	if notes(t, db) != 5 {
		t.Fatal("database lost data")
	}
}

func TestRestoreReplacesAfterBackingUp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := newDB(t, dir, 5)
	saved, err := backup.Backup(ctx, db, filepath.Join(t.TempDir(), "five.bak"))
	if err != nil {
		t.Fatal(err)
	}
	conn := testdb.Open(t, db)
	insert(t, conn, 7)
	conn.Close()
	// A stale, non-hot journal of the old file must not survive next to
	// the new one.
	if err := os.WriteFile(db+"-journal", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := backup.Restore(ctx, db, saved, known)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Raw || filepath.Dir(snap.Path) != dir || notes(t, snap.Path) != 12 {
		t.Fatalf("backup of the replaced database: %+v", snap)
	}
	if notes(t, db) != 5 {
		t.Fatal("database not restored")
	}
	if _, err := os.Stat(db + "-journal"); err == nil {
		t.Fatal("stale journal left beside the restored database")
	}
	if err := backup.Verify(ctx, db, known); err != nil {
		t.Fatal(err)
	}
	for _, name := range listDir(t, dir) {
		if strings.HasSuffix(name, ".tmp") {
			t.Fatalf("temporary file left: %s", name)
		}
	}
}

func TestRestoreOverCorruptDatabaseKeepsRawCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := newDB(t, t.TempDir(), 4)
	db := filepath.Join(dir, "app.db")
	garbage := []byte("this file was clobbered by something\n")
	os.WriteFile(db, garbage, 0o644)
	snap, err := backup.Restore(ctx, db, good, known)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Raw || !bytes.Equal(testdb.ReadFile(t, snap.Path), garbage) {
		t.Fatalf("raw copy of the broken database: %+v", snap)
	}
	if notes(t, db) != 4 {
		t.Fatal("not restored")
	}
	// And a database corrupt past its header.
	db2 := corrupt(t, dir)
	want := testdb.ReadFile(t, db2)
	snap, err = backup.Restore(ctx, db2, good, known)
	if err != nil || !snap.Raw || !bytes.Equal(testdb.ReadFile(t, snap.Path), want) {
		t.Fatalf("corrupt database: %+v %v", snap, err)
	}
}

func TestRestoreRefusesDatabaseInUse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := newDB(t, dir, 2)
	good := newDB(t, t.TempDir(), 9)
	holder := testdb.Open(t, db)
	if err := holder.Exec("PRAGMA journal_mode=WAL; INSERT INTO note (body) VALUES ('in wal')"); err != nil {
		t.Fatal(err)
	}
	snap, err := backup.Restore(ctx, db, good, known)
	if !errors.Is(err, backup.ErrInUse) {
		t.Fatalf("err = %v", err)
	}
	if snap.Path == "" || notes(t, snap.Path) != 3 {
		t.Fatalf("the backup made before refusing: %+v", snap)
	}
	if testdb.Int(t, holder, "SELECT count(*) FROM note") != 3 {
		t.Fatal("database replaced under an open connection")
	}
	holder.Close()
	if _, err := backup.Restore(ctx, db, good, known); err != nil {
		t.Fatalf("after closing: %v", err)
	}
	if notes(t, db) != 9 {
		t.Fatal("not restored")
	}
}

func TestResetBacksUpAndRebuilds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := newDB(t, dir, 6)
	sds := []*seed.Seed{{Version: 1, Name: "welcome", SQL: "INSERT INTO note (body) VALUES ('welcome');", Line: 1, Source: "0001_welcome.sql"}}
	sds[0].Checksum = migrations.Checksum(sds[0].SQL)
	res, err := backup.Reset(ctx, db, backup.ResetOptions{Migrations: migs, Seeds: sds})
	if err != nil {
		t.Fatal(err)
	}
	if res.Backup.Path == "" || notes(t, res.Backup.Path) != 6 {
		t.Fatalf("backup: %+v", res.Backup)
	}
	if len(res.Migrated) != 2 || len(res.Seeded) != 1 {
		t.Fatalf("result: %+v", res)
	}
	conn := testdb.Open(t, db)
	if testdb.Int(t, conn, "SELECT count(*) FROM note") != 1 || testdb.Int(t, conn, "SELECT count(*) FROM _migrations") != 2 ||
		testdb.Int(t, conn, "SELECT count(*) FROM _seeds") != 1 || testdb.Int(t, conn, "SELECT n FROM total") != 0 {
		t.Fatal("reset database is not freshly migrated and seeded")
	}
	conn.Close()

	// A failing migration leaves the database as it was, and no backup.
	before := testdb.ReadFile(t, db)
	files := listDir(t, dir)
	bad := append(mustMigs(map[string]string{"0003_bad.sql": "CREATE TABLE oops (x);\nINSERT INTO nope VALUES (1);\n"}), migs...)
	res, err = backup.Reset(ctx, db, backup.ResetOptions{Migrations: bad})
	if !errors.Is(err, migrations.ErrMigrationFailed) || res.Backup.Path != "" {
		t.Fatalf("failing reset: %+v %v", res, err)
	}
	if !bytes.Equal(testdb.ReadFile(t, db), before) || strings.Join(listDir(t, dir), " ") != strings.Join(files, " ") {
		t.Fatal("failing reset touched the database or left files")
	}

	// No database yet: nothing to back up, a new one is created.
	fresh := filepath.Join(dir, "fresh.db")
	res, err = backup.Reset(ctx, fresh, backup.ResetOptions{Migrations: migs})
	if err != nil || res.Backup.Path != "" || notes(t, fresh) != 0 {
		t.Fatalf("reset of a missing database: %+v %v", res, err)
	}
}

func TestBackupRefusesNonDatabaseAndRestoreCreatesMissing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("plain text that is long enough to look like something, but is not SQLite at all.....\n"), 0o644)
	if _, err := backup.Backup(ctx, junk, ""); !errors.Is(err, backup.ErrInvalid) {
		t.Fatalf("backup of a text file: %v", err)
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Fatalf("a refused backup left files: %v", got)
	}
	good := newDB(t, t.TempDir(), 2)
	db := filepath.Join(dir, "new.db")
	snap, err := backup.Restore(ctx, db, good, known)
	if err != nil || snap.Path != "" || notes(t, db) != 2 {
		t.Fatalf("restore to a missing database: %+v %v", snap, err)
	}
}

// interruptOnce is a context that reports itself cancelled to exactly one
// call of Err, the (at+1)th, and is live before and after: a failure of
// one step, and of that step only.
type interruptOnce struct {
	context.Context
	at    int64
	calls atomic.Int64
}

func (c *interruptOnce) Err() error {
	if c.calls.Add(1) == c.at+1 {
		return context.Canceled
	}
	return nil
}

// A restore interrupted at any point of its checks replaces nothing: the
// failure is reported, not swallowed into a database put in place.
func TestRestoreInterruptedLeavesDatabaseAlone(t *testing.T) {
	dir := t.TempDir()
	db := newDB(t, dir, 5)
	saved, err := backup.Backup(context.Background(), newDB(t, t.TempDir(), 3), filepath.Join(t.TempDir(), "three.bak"))
	if err != nil {
		t.Fatal(err)
	}
	// Count the interrupt checks a whole restore makes, then interrupt
	// each of them in turn on copies of the database.
	count := &interruptOnce{Context: context.Background(), at: -1}
	if err := backup.Verify(count, saved, known); err != nil {
		t.Fatal(err)
	}
	total := count.calls.Load()
	if total < 2 {
		t.Fatalf("the checks looked at their context %d times", total)
	}
	for at := int64(0); at < total; at += max(1, total/16) {
		ctx := &interruptOnce{Context: context.Background(), at: at}
		if _, err := backup.Restore(ctx, db, saved, known); err == nil {
			t.Fatalf("Restore reported success though its checks were interrupted at check %d of %d", at, total)
		}
		if n := notes(t, db); n != 5 {
			t.Fatalf("database holds %d notes after a failed restore, want its 5", n)
		}
	}
}

// known is what the tests' restores check files against: the migrations
// their databases were made with.
var known = backup.RestoreOptions{Migrations: migs}
